"""The Scrapy project: items, pipelines, middlewares and one spider per platform."""
