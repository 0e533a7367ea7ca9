"""The master database and what leaves it: patient index, search, exports, reports,
completeness checks, cancer registry case finding and release of information; and a record's
working code set (``records``) and validation (``validation``), which the review app and the
claim use."""
