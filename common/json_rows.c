/*-------------------------------------------------------------------------
 *
 * json_rows.c
 *	  Arrays of rows of scalars (Patroni's /history), read with the JSON
 *	  reader's parser (json_reader.h).
 *
 * IDENTIFICATION
 *	  common/json_rows.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "json_reader.h"

/*
 * json_read_rows: an array of arrays of scalars, each row handed to the
 * caller as cells.
 */
static bool
read_cell(JsonParser *P, int depth, JsonCell *c)
{
	memset(c, 0, sizeof(*c));
	if (P->p >= P->end)
		return jp_error(P, "unexpected end of input");
	if (*P->p == '"')
	{
		c->kind = JSON_CELL_STRING;
		return jp_get_string(P, c->text, sizeof(c->text));
	}
	if (*P->p >= '0' && *P->p <= '9')
	{
		c->kind = JSON_CELL_UINT;
		return jp_parse_uint(P, UINT64_MAX, &c->uint_value);
	}
	if (jp_take_null(P))
	{
		c->kind = JSON_CELL_NULL;
		return true;
	}
	/* any other value: checked, kept as "other" */
	c->kind = JSON_CELL_OTHER;
	return jp_skip_value(P, depth);
}

/* What reading rows carries from element to element. */
typedef struct RowsRead
{
	int			maxcells;
	JsonCell   *cells;
	int			ncells;			/* of the row being read */
	JsonRowFn	fn;
	void	   *arg;
} RowsRead;

static bool
row_cell(JsonParser *P, int index, int depth, void *arg)
{
	RowsRead   *r = arg;

	if (index >= r->maxcells)
		return jp_error(P, "too many cells in a row");
	r->ncells = index + 1;
	return read_cell(P, depth, &r->cells[index]);
}

/* One row: its cells, then the caller's fn. */
static bool
read_row(JsonParser *P, int index, int depth, void *arg)
{
	RowsRead   *r = arg;

	(void) index;
	if (P->p >= P->end || *P->p != '[')
		return jp_error(P, "expected a row (an array)");
	r->ncells = 0;
	if (!jp_parse_array(P, depth + 1, row_cell, r))
		return false;
	return r->fn(r->arg, r->cells, r->ncells) || jp_error(P, "row refused");
}

bool
json_read_rows(const char *data, size_t len, int maxcells, JsonCell *cells,
			   JsonRowFn fn, void *arg, char *err, size_t errlen)
{
	JsonParser	P;
	RowsRead	r = {maxcells, cells, 0, fn, arg};

	jp_init(&P, data, len);
	jp_skip_ws(&P);
	return jp_document_end(&P, jp_parse_array(&P, 1, read_row, &r), err, errlen);
}
