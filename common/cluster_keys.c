/*-------------------------------------------------------------------------
 *
 * cluster_keys.c
 *	  /status, /sync, /failover and /history in Patroni's formats (see
 *	  cluster_keys.h), read with the one JSON reader (json_writer.c).
 *
 * IDENTIFICATION
 *	  common/cluster_keys.c
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cluster_keys.h"
#include "json_reader.h"
#include "text.h"

/* Blanks at both ends of s, removed in place. */
static void
trim(char *s)
{
	size_t		len = strlen(s);
	size_t		start = 0;

	while (len > 0 && s[len - 1] == ' ')
		s[--len] = '\0';
	while (s[start] == ' ')
		start++;
	memmove(s, s + start, len - start + 1);
}

/*
 * A reason is prose for people: too long, it is cut; a byte that is not
 * printable ASCII becomes '?', so what is written is always valid JSON
 * text whatever the history file held.
 */
static void
copy_prose(char *dst, size_t cap, const char *src, size_t len)
{
	size_t		n = len < cap - 1 ? len : cap - 1;

	for (size_t i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) src[i];

		dst[i] = c >= 0x20 && c < 0x7F ? (char) c : '?';
	}
	dst[n] = '\0';
}

/*
 * pg_ha 1.0 kept /status, /sync and /failover as words separated by one
 * blank: read them too, so a cluster upgraded node by node keeps its
 * state until its leader writes the keys anew.  Splits data into exactly
 * n words of at most cap - 1 bytes (node names or numbers); false for
 * anything else.
 */
static bool
legacy_words(const char *data, size_t len, int n, char words[][HA_NAME_LEN])
{
	size_t		pos = 0;

	for (int i = 0; i < n; i++)
	{
		size_t		start = pos;

		while (pos < len && data[pos] != ' ')
			pos++;
		if (pos == start || pos - start >= HA_NAME_LEN)
			return false;
		memcpy(words[i], data + start, pos - start);
		words[i][pos - start] = '\0';
		if (!text_valid_name(words[i], HA_NAME_LEN))
			return false;
		if (i < n - 1)
		{
			if (pos >= len)
				return false;
			pos++;				/* the blank */
		}
	}
	return pos == len;
}

/* ---- /status ---- */

void
status_key_render(const HaStatusKey *k, JsonBuf *jb)
{
	json_object_begin(jb);
	json_key(jb, "optime");
	json_uint(jb, k->optime);
	json_key(jb, "slots");
	json_object_begin(jb);
	for (int i = 0; i < k->nslots; i++)
	{
		json_key(jb, k->slots[i].name);
		json_uint(jb, k->slots[i].lsn);
	}
	json_object_end(jb);
	json_key(jb, "timeline");
	json_uint(jb, k->timeline);
	json_object_end(jb);
}

/* One entry of "slots": a slot's name (lower case, digits, '_') and a number. */
static bool
status_slot_member(JsonParser *P, const char *key, size_t keylen, int depth, void *arg)
{
	HaStatusKey *k = (HaStatusKey *) arg;
	HaStatusSlot *s;
	uint64_t	lsn;

	if (keylen == 0 || keylen >= SLOT_NAME_LEN || k->nslots == HA_STATUS_MAX_SLOTS ||
		strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789_") != keylen ||
		P->p >= P->end || *P->p < '0' || *P->p > '9')
		return jp_skip_value(P, depth);
	if (!jp_parse_uint(P, UINT64_MAX, &lsn))
		return false;
	s = &k->slots[k->nslots++];
	memset(s->name, 0, sizeof(s->name));
	memcpy(s->name, key, keylen);
	s->lsn = lsn;
	return true;
}

static bool
status_member(JsonParser *P, const char *key, size_t keylen, int depth, void *arg)
{
	if (jp_key_is(key, keylen, "slots") && P->p < P->end && *P->p == '{')
	{
		((HaStatusKey *) arg)->nslots = 0;	/* a repeated key: the last one counts */
		return jp_parse_object(P, depth + 1, status_slot_member, arg);
	}
	return jp_skip_value(P, depth);
}

static bool
all_digits(const char *data, size_t len)
{
	if (len == 0 || len > 20)
		return false;
	for (size_t i = 0; i < len; i++)
		if (data[i] < '0' || data[i] > '9')
			return false;
	return true;
}

bool
status_key_parse(const char *data, size_t len, HaStatusKey *k)
{
	uint64_t	tli = 0;
	uint64_t   *optime = &k->optime;
	char		err[8];

	memset(k, 0, sizeof(*k));
	if (data == NULL)
		return false;
	if (all_digits(data, len))
	{
		char		buf[24];

		memcpy(buf, data, len);
		buf[len] = '\0';
		return text_parse_uint(buf, UINT64_MAX, optime);
	}
	if (len > 0 && data[0] != '{')
	{
		char		w[2][HA_NAME_LEN];

		/* pg_ha 1.0: "<timeline> <lsn>" */
		if (!legacy_words(data, len, 2, w) || !text_parse_uint(w[0], UINT32_MAX, &tli) ||
			!text_parse_uint(w[1], UINT64_MAX, optime))
		{
			*optime = 0;
			return false;
		}
		k->timeline = (uint32_t) tli;
		return true;
	}
	if (!json_is_object(data, len) ||
		!json_find_uint(data, len, "optime", optime))
		return false;
	if (json_find_uint(data, len, "timeline", &tli) && tli <= UINT32_MAX)
		k->timeline = (uint32_t) tli;
	/* the slots are a help, not the key's point: a bad entry loses them only */
	if (!jp_parse_document(data, len, status_member, k, err, sizeof(err)))
		k->nslots = 0;
	return true;
}

/* ---- /sync ---- */

void
sync_key_render(const HaSyncKey *k, JsonBuf *jb)
{
	json_object_begin(jb);
	json_key(jb, "leader");
	if (k->leader[0])
		json_string(jb, k->leader);
	else
		json_null(jb);
	json_key(jb, "sync_standby");
	if (k->standby[0] && k->confirmed)
		json_string(jb, k->standby);
	else
		json_null(jb);
	if (k->standby[0] && !k->confirmed)
	{
		json_key(jb, "named");
		json_string(jb, k->standby);
	}
	json_object_end(jb);
}

bool
sync_key_parse(const char *data, size_t len, HaSyncKey *k)
{
	char		standby[HA_NAME_LEN * 4];
	char		named[HA_NAME_LEN];
	char	   *comma;

	memset(k, 0, sizeof(*k));
	if (data != NULL && len > 0 && data[0] != '{')
	{
		char		w[3][HA_NAME_LEN];

		/* pg_ha 1.0: "<leader> <standby|-> <confirmed 0|1>" */
		if (!legacy_words(data, len, 3, w) ||
			(strcmp(w[2], "0") != 0 && strcmp(w[2], "1") != 0))
			return false;
		strcpy(k->leader, w[0]);
		if (strcmp(w[1], "-") != 0)
		{
			strcpy(k->standby, w[1]);
			k->confirmed = strcmp(w[2], "1") == 0;
		}
		return true;
	}
	if (data == NULL ||
		!json_get_string(data, len, "leader", k->leader, sizeof(k->leader), NULL, 0) ||
		!json_get_string(data, len, "sync_standby", standby, sizeof(standby), NULL, 0) ||
		!json_get_string(data, len, "named", named, sizeof(named), NULL, 0))
	{
		memset(k, 0, sizeof(*k));
		return false;
	}
	comma = strchr(standby, ',');
	if (comma)
		*comma = '\0';
	trim(standby);
	if (standby[0] && strlen(standby) < sizeof(k->standby))
	{
		strcpy(k->standby, standby);
		k->confirmed = true;
	}
	else if (named[0])
		strcpy(k->standby, named);
	return true;
}

/* ---- /failover ---- */

void
failover_key_render(const HaFailoverKey *k, JsonBuf *jb)
{
	json_object_begin(jb);
	if (k->leader[0])
	{
		json_key(jb, "leader");
		json_string(jb, k->leader);
	}
	if (k->member[0])
	{
		json_key(jb, "member");
		json_string(jb, k->member);
	}
	if (k->scheduled_at[0])
	{
		json_key(jb, "scheduled_at");
		json_string(jb, k->scheduled_at);
	}
	if (k->force)
	{
		json_key(jb, "force");
		json_bool(jb, true);
	}
	json_object_end(jb);
}

/* null, true or false, maybe with blanks after it */
static bool
json_is_literal(const char *s, size_t len)
{
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\n'))
		len--;
	return (len == 4 && memcmp(s, "null", 4) == 0) ||
		(len == 4 && memcmp(s, "true", 4) == 0) ||
		(len == 5 && memcmp(s, "false", 5) == 0);
}

/* Patroni's legacy "leader:member" (either side may be empty), or pg_ha 1.0's "leader member". */
static bool
failover_legacy_parse(const char *data, size_t len, HaFailoverKey *k)
{
	char		w[2][HA_NAME_LEN];
	const char *colon = memchr(data, ':', len);
	size_t		llen = colon ? (size_t) (colon - data) : len;
	size_t		mlen = colon ? len - llen - 1 : 0;

	if (colon == NULL && legacy_words(data, len, 2, w))
	{
		strcpy(k->leader, w[0]);
		strcpy(k->member, w[1]);
		return true;
	}
	if (llen >= sizeof(k->leader) || mlen >= sizeof(k->member) ||
		memchr(data, '\0', len) != NULL)
		return false;
	memcpy(k->leader, data, llen);
	k->leader[llen] = '\0';
	if (colon)
	{
		memcpy(k->member, colon + 1, mlen);
		k->member[mlen] = '\0';
	}
	trim(k->leader);
	trim(k->member);
	/* node names only: anything else names no member, and may not be UTF-8 */
	return (k->leader[0] || k->member[0]) &&
		(!k->leader[0] || text_valid_name(k->leader, sizeof(k->leader))) &&
		(!k->member[0] || text_valid_name(k->member, sizeof(k->member)));
}

bool
failover_key_parse(const char *data, size_t len, HaFailoverKey *k)
{
	size_t		i = 0;
	bool		ok;

	memset(k, 0, sizeof(*k));
	if (data == NULL)
		return false;
	while (i < len && (data[i] == ' ' || data[i] == '\n' || data[i] == '\t' || data[i] == '\r'))
		i++;
	if (i < len && data[i] == '{')
	{
		ok = json_get_string(data, len, "leader", k->leader, sizeof(k->leader), NULL, 0) &&
			json_get_string(data, len, "member", k->member, sizeof(k->member), NULL, 0) &&
			json_get_string(data, len, "scheduled_at", k->scheduled_at,
							sizeof(k->scheduled_at), NULL, 0) &&
			(k->leader[0] || k->member[0]);
		/* absent, null or not a boolean: not forced */
		if (ok && !json_find_bool(data, len, "force", &k->force))
			k->force = false;
	}
	else if (i < len && data[i] != '[' && data[i] != '"' && !all_digits(data + i, len - i) &&
			 !json_is_literal(data + i, len - i))
		ok = failover_legacy_parse(data, len, k);	/* not JSON */
	else
		ok = false;				/* JSON, but not an object: Patroni ignores it */
	if (!ok)
		memset(k, 0, sizeof(*k));
	return ok;
}

/* ---- /history ---- */

/* Keeps the newest max of n rows: drops the oldest. */
static int
keep_newest(HaHistoryRow *rows, int n, int max)
{
	if (n <= max)
		return n;
	memmove(rows, rows + (n - max), sizeof(HaHistoryRow) * (size_t) max);
	return max;
}

/* "X/Y" as postgres prints an LSN. */
static bool
parse_lsn(const char *s, size_t len, uint64_t *lsn)
{
	uint64_t	hi = 0,
				lo = 0;
	size_t		i = 0;
	int			nd;

	for (nd = 0; i < len && s[i] != '/'; i++, nd++)
	{
		int			v = text_hex_value(s[i]);

		if (v < 0 || nd >= 8)
			return false;
		hi = hi * 16 + (uint64_t) v;
	}
	if (nd == 0 || i >= len)
		return false;
	for (i++, nd = 0; i < len; i++, nd++)
	{
		int			v = text_hex_value(s[i]);

		if (v < 0 || nd >= 8)
			return false;
		lo = lo * 16 + (uint64_t) v;
	}
	if (nd == 0)
		return false;
	*lsn = hi << 32 | lo;
	return true;
}

int
history_file_parse(const char *text, size_t len, HaHistoryRow *rows, int max)
{
	size_t		pos = 0;
	int			n = 0;

	while (pos < len)
	{
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t		linelen = nl ? (size_t) (nl - line) : len - pos;
		const char *tab1,
				   *tab2;
		char		num[16];
		HaHistoryRow row;
		uint64_t	tli;
		size_t		rlen;

		pos += linelen + (nl ? 1 : 0);
		while (linelen > 0 && (line[linelen - 1] == '\r' || line[linelen - 1] == ' '))
			linelen--;
		if (linelen == 0 || line[0] == '#')
			continue;
		tab1 = memchr(line, '\t', linelen);
		tab2 = tab1 ? memchr(tab1 + 1, '\t', linelen - (size_t) (tab1 + 1 - line)) : NULL;
		if (tab2 == NULL || (size_t) (tab1 - line) >= sizeof(num))
			return -1;
		memset(&row, 0, sizeof(row));
		memcpy(num, line, (size_t) (tab1 - line));
		num[tab1 - line] = '\0';
		if (!text_parse_uint(num, UINT32_MAX, &tli) ||
			!parse_lsn(tab1 + 1, (size_t) (tab2 - tab1 - 1), &row.lsn))
			return -1;
		row.timeline = (uint32_t) tli;
		rlen = linelen - (size_t) (tab2 + 1 - line);
		copy_prose(row.reason, sizeof(row.reason), tab2 + 1, rlen);
		if (n == max)
		{
			memmove(rows, rows + 1, sizeof(HaHistoryRow) * (size_t) (max - 1));
			n--;
		}
		if (max > 0)
			rows[n++] = row;
	}
	return n;
}

typedef struct HistoryRows
{
	HaHistoryRow *rows;
	int			max;
	int			n;
} HistoryRows;

/*
 * One /history row: [timeline, lsn, reason(, timestamp(, new_leader))],
 * Patroni's shape; extra cells are ignored, a timestamp or leader of
 * another type is left unknown.
 */
static bool
history_row(void *arg, const JsonCell *cells, int ncells)
{
	HistoryRows *h = (HistoryRows *) arg;
	HaHistoryRow row;

	if (ncells < 3 || cells[0].kind != JSON_CELL_UINT || cells[0].uint_value > UINT32_MAX ||
		cells[1].kind != JSON_CELL_UINT || cells[2].kind != JSON_CELL_STRING)
		return false;
	memset(&row, 0, sizeof(row));
	row.timeline = (uint32_t) cells[0].uint_value;
	row.lsn = cells[1].uint_value;
	copy_prose(row.reason, sizeof(row.reason), cells[2].text, strlen(cells[2].text));
	if (ncells > 3 && cells[3].kind == JSON_CELL_STRING &&
		strlen(cells[3].text) < sizeof(row.timestamp))
		strcpy(row.timestamp, cells[3].text);
	if (ncells > 4 && cells[4].kind == JSON_CELL_STRING &&
		strlen(cells[4].text) < sizeof(row.new_leader))
		strcpy(row.new_leader, cells[4].text);
	if (h->n == h->max)
		h->n = keep_newest(h->rows, h->n, h->max - 1);
	if (h->max > 0)
		h->rows[h->n++] = row;
	return true;
}

int
history_key_parse(const char *data, size_t len, HaHistoryRow *rows, int max,
				  char *err, size_t errlen)
{
	JsonCell	cells[8];
	HistoryRows h = {rows, max, 0};

	if (!json_read_rows(data, len, 8, cells, history_row, &h, err, errlen))
		return -1;
	return h.n;
}

void
history_key_render(const HaHistoryRow *rows, int n, JsonBuf *jb)
{
	json_array_begin(jb);
	for (int i = 0; i < n; i++)
	{
		const HaHistoryRow *r = &rows[i];

		json_array_begin(jb);
		json_uint(jb, r->timeline);
		json_uint(jb, r->lsn);
		json_string(jb, r->reason);
		if (r->timestamp[0])
		{
			json_string(jb, r->timestamp);
			if (r->new_leader[0])
				json_string(jb, r->new_leader);
		}
		json_array_end(jb);
	}
	json_array_end(jb);
}

bool
history_needs_update(const HaHistoryRow *rows, int n, uint32_t primary_timeline)
{
	const HaHistoryRow *last = n > 0 ? &rows[n - 1] : NULL;

	if (primary_timeline <= 1)
		return n > 0;
	return last == NULL || last->timeline != primary_timeline - 1 ||
		last->timestamp[0] == '\0' || last->new_leader[0] == '\0';
}

int
history_merge(const HaHistoryRow *file, int nfile, const HaHistoryRow *key,
			  int nkey, uint32_t primary_timeline, const char *now_ts,
			  const char *self, HaHistoryRow *out)
{
	int			n = 0;

	if (primary_timeline <= 1)
		return 0;				/* timeline 1: no switch yet */
	if (nfile > HA_HISTORY_MAX)
	{
		file += nfile - HA_HISTORY_MAX;
		nfile = HA_HISTORY_MAX;
	}
	for (int i = 0; i < nfile; i++)
	{
		HaHistoryRow *r = &out[n++];

		*r = file[i];
		r->timestamp[0] = r->new_leader[0] = '\0';
		for (int j = 0; j < nkey; j++)
			if (key[j].timeline == r->timeline && key[j].lsn == r->lsn)
			{
				memcpy(r->timestamp, key[j].timestamp, sizeof(r->timestamp));
				memcpy(r->new_leader, key[j].new_leader, sizeof(r->new_leader));
			}
		if (r->timeline == primary_timeline - 1 &&
			(r->timestamp[0] == '\0' || r->new_leader[0] == '\0'))
		{
			snprintf(r->timestamp, sizeof(r->timestamp), "%s", now_ts);
			snprintf(r->new_leader, sizeof(r->new_leader), "%s", self);
		}
	}
	return n;
}
