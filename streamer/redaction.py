"""Keep tokens out of access logs: ``?access_token=`` is masked in uvicorn's access lines.

EventSource cannot set headers, so browsers may send their JWT in the query
string; uvicorn's access log records the full path.
"""

from __future__ import annotations

import logging
import re

TOKEN_IN_QUERY = re.compile(r"(access_token=)[^&\s]*", re.IGNORECASE)
MASK = r"\1**********"


class QueryTokenFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(TOKEN_IN_QUERY.sub(MASK, arg) if isinstance(arg, str) else arg
                                for arg in record.args)
        if isinstance(record.msg, str):
            record.msg = TOKEN_IN_QUERY.sub(MASK, record.msg)
        return True


def mask_query_tokens(logger_name: str = "uvicorn.access") -> None:
    logger = logging.getLogger(logger_name)
    if not any(isinstance(existing, QueryTokenFilter) for existing in logger.filters):
        logger.addFilter(QueryTokenFilter())
