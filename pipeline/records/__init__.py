"""The master database and what leaves it: patient index, search, exports, reports,
completeness checks, cancer registry case finding and release of information."""
