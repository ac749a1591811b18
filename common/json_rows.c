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
read_cell(JsonParser *P, JsonCell *c)
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
	return jp_skip_value(P, 2);
}

/* One row at P->p ('['): its cells, then fn. */
static bool
read_row(JsonParser *P, int maxcells, JsonCell *cells, JsonRowFn fn, void *arg)
{
	int			n = 0;

	P->p++;
	jp_skip_ws(P);
	if (P->p < P->end && *P->p == ']')
	{
		P->p++;
		return fn(arg, cells, 0) || jp_error(P, "row refused");
	}
	for (;;)
	{
		jp_skip_ws(P);
		if (n >= maxcells)
			return jp_error(P, "too many cells in a row");
		if (!read_cell(P, &cells[n++]))
			return false;
		jp_skip_ws(P);
		if (P->p >= P->end)
			return jp_error(P, "unterminated array");
		if (*P->p == ']')
		{
			P->p++;
			return fn(arg, cells, n) || jp_error(P, "row refused");
		}
		if (*P->p != ',')
			return jp_error(P, "expected ',' or ']'");
		P->p++;
	}
}

bool
json_read_rows(const char *data, size_t len, int maxcells, JsonCell *cells,
			   JsonRowFn fn, void *arg, char *err, size_t errlen)
{
	JsonParser	P;
	bool		ok = true;

	jp_init(&P, data, len);

	jp_skip_ws(&P);
	if (P.p >= P.end || *P.p != '[')
		ok = jp_error(&P, "expected an array");
	else
	{
		P.p++;
		jp_skip_ws(&P);
		if (P.p < P.end && *P.p == ']')
			P.p++;
		else
			for (;;)
			{
				jp_skip_ws(&P);
				if (P.p >= P.end || *P.p != '[')
				{
					ok = jp_error(&P, "expected a row (an array)");
					break;
				}
				if (!(ok = read_row(&P, maxcells, cells, fn, arg)))
					break;
				jp_skip_ws(&P);
				if (P.p < P.end && *P.p == ']')
				{
					P.p++;
					break;
				}
				if (P.p >= P.end || *P.p != ',')
				{
					ok = jp_error(&P, "expected ',' or ']'");
					break;
				}
				P.p++;
			}
	}
	return jp_document_end(&P, ok, err, errlen);
}
