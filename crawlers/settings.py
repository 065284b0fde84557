"""Scrapy settings of the spreadwatch project (`scrapy.cfg` points here).

Politeness first: robots.txt obeyed, few requests per domain, AutoThrottle on; APIs' own rate
limits are obeyed by `crawlers.middlewares.RateLimitMiddleware` and the scheduler that keeps a
held bucket's requests out of the downloader (`crawlers.scheduler.BucketScheduler`): no
`SCHEDULER` here, `IncidentSpider.update_settings` enables both, so that whatever runs a spider
has them. Every pipeline stage of `crawlers.pipelines` runs in the order below. Spreadwatch's
own values (`SPREADWATCH_*`) are filled by `crawlers.run` per crawl; with `scrapy crawl` they
fall back to `load_settings()` and `-a incident=PATH`.
"""

BOT_NAME = "spreadwatch"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"

USER_AGENT = "spreadwatch/0.1 (+https://github.com/spreadwatch/spreadwatch)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.5
DOWNLOAD_TIMEOUT = 60
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
RETRY_ENABLED = True
RETRY_TIMES = 3
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False

ITEM_PIPELINES = {
    "crawlers.pipelines.ValidatePipeline": 100,
    "crawlers.pipelines.NormalisePipeline": 200,
    "crawlers.pipelines.MatchPipeline": 300,
    "crawlers.pipelines.StancePipeline": 400,
    "crawlers.pipelines.FingerprintPipeline": 500,
    "crawlers.pipelines.CapturePipeline": 600,
    "crawlers.pipelines.IndexPipeline": 900,
}
SPIDER_MIDDLEWARES = {
    # Raw responses travel with their posts to the capture stage (evidence).
    "crawlers.exchange.ExchangeMiddleware": 950,
}
EXTENSIONS = {
    "crawlers.runstats.RunStats": 500,
}

LOG_FORMATTER = "crawlers.logformat.SpreadwatchLogFormatter"
LOG_LEVEL = "INFO"

# Spreadwatch's own (set per crawl by crawlers.run; defaults for `scrapy crawl`).
SPREADWATCH_BATCH_SIZE = 500
SPREADWATCH_FLUSH_SECONDS = 5.0
