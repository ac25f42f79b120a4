/*
 * opendata/xlsx — what a dataset's spreadsheet (format=xlsx on /records and /download) says about itself: its columns
 * with their types, decimals, units and descriptions from the catalog, and the dataset's titles, licence, version,
 * release, citation and the request's own URL (app/xlsx.h writes it).
 */
#ifndef KLIMA_OPENDATA_XLSX_H
#define KLIMA_OPENDATA_XLSX_H

#include <h2o.h>

#include "app/xlsx.h"
#include "opendata/query.h"

/* The book of q's result, in req's pool (row_limit 0). */
app_xlsx_book_t *opendata_xlsx_book(h2o_req_t *req, const opendata_query_t *q);

/* The hash of what shapes a response's bytes, for its strong ETag: the request's path and query, and for a spreadsheet
 * also the scheme and Host (its source URL is written into the workbook). */
uint64_t opendata_xlsx_request_hash(h2o_req_t *req, const opendata_query_t *q);

#endif
