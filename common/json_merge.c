/*-------------------------------------------------------------------------
 *
 * json_merge.c
 *	  JSON Merge Patch (RFC 7386) on text (see json_merge.h).  Each object
 *	  is read once with the JSON reader into a list of its members' key
 *	  and value spans; the result is written from those spans, recursing
 *	  where both sides hold an object.
 *
 * IDENTIFICATION
 *	  common/json_merge.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "json_merge.h"
#include "json_reader.h"

#define KEY_CAP		JSON_KEY_CAP	/* longer keys are refused */

typedef struct Span
{
	const char *p;
	size_t		len;
} Span;

typedef struct Member
{
	char		key[KEY_CAP];
	Span		value;
} Member;

typedef struct Members
{
	int			n;
	bool		too_many;
	Member		m[JSON_MERGE_MAX_MEMBERS];
} Members;

static bool
collect_member(JsonParser *P, const char *key, size_t keylen, int depth, void *arg)
{
	Members    *ms = (Members *) arg;
	const unsigned char *start = P->p;

	if (keylen == 0)
		return jp_error(P, "a key is empty or too long");
	if (memchr(key, '\0', keylen) != NULL)
		return jp_error(P, "a key holds a NUL");	/* found by fuzz_config */
	if (ms->n == JSON_MERGE_MAX_MEMBERS)
	{
		ms->too_many = true;
		return jp_error(P, "too many members in an object");
	}
	if (!jp_skip_value(P, depth))
		return false;
	memcpy(ms->m[ms->n].key, key, keylen);
	ms->m[ms->n].key[keylen] = '\0';
	ms->m[ms->n].value.p = (const char *) start;
	ms->m[ms->n].value.len = (size_t) (P->p - start);
	ms->n++;
	return true;
}

/* Leading and trailing blanks off a span. */
static Span
trimmed(const char *p, size_t len)
{
	Span		s = {p, len};

	while (s.len > 0 && strchr(" \t\r\n", s.p[0]))
		s.p++, s.len--;
	while (s.len > 0 && strchr(" \t\r\n", s.p[s.len - 1]))
		s.len--;
	return s;
}

static bool
is_object(Span s)
{
	return s.len > 0 && s.p[0] == '{';
}

static bool
is_null(Span s)
{
	return s.len == 4 && memcmp(s.p, "null", 4) == 0;
}

/* An object's members (which the caller knows is an object). */
static bool
read_members(Span s, Members *ms, char *err, size_t errlen)
{
	ms->n = 0;
	ms->too_many = false;
	return jp_parse_document(s.p, s.len, collect_member, ms, err, errlen);
}

static int
find_member(const Members *ms, const char *key)
{
	for (int i = 0; i < ms->n; i++)
		if (strcmp(ms->m[i].key, key) == 0)
			return i;
	return -1;
}

static void
write_span(JsonBuf *jb, Span s)
{
	json_raw_n(jb, s.p, s.len);
}

static bool merge(Span target, Span patch, JsonBuf *jb, int depth, char *err, size_t errlen);

/* A patch written alone (the target had nothing there): its nulls go. */
static bool
merge_into_nothing(Span patch, JsonBuf *jb, int depth, char *err, size_t errlen)
{
	static const Span empty = {"{}", 2};

	if (!is_object(patch))
	{
		write_span(jb, patch);
		return true;
	}
	return merge(empty, patch, jb, depth, err, errlen);
}

static bool
merge(Span target, Span patch, JsonBuf *jb, int depth, char *err, size_t errlen)
{
	Members    *t;
	Members    *p;
	bool		ok = true;

	if (!is_object(patch))
	{
		write_span(jb, patch);	/* a scalar or array replaces whatever was there */
		return true;
	}
	if (depth > 8)
	{
		snprintf(err, errlen, "nesting too deep");
		return false;
	}
	if (!is_object(target))
		target = (Span) {"{}", 2};
	/* two member lists per level (about 17 kB), at most 8 levels deep */
	{
		Members		lists[2];
		int			kept = 0;

		t = &lists[0];
		p = &lists[1];
		if (!read_members(target, t, err, errlen) || !read_members(patch, p, err, errlen))
			return false;
		json_object_begin(jb);
		for (int i = 0; i < t->n && ok; i++)
		{
			int			j = find_member(p, t->m[i].key);
			Span		pv;

			if (j < 0)
			{
				json_key(jb, t->m[i].key);
				write_span(jb, t->m[i].value);
				kept++;
				continue;
			}
			pv = trimmed(p->m[j].value.p, p->m[j].value.len);
			if (is_null(pv))
				continue;		/* removed */
			kept++;
			json_key(jb, t->m[i].key);
			ok = merge(trimmed(t->m[i].value.p, t->m[i].value.len), pv, jb, depth + 1, err, errlen);
		}
		for (int j = 0; j < p->n && ok; j++)
		{
			Span		pv = trimmed(p->m[j].value.p, p->m[j].value.len);

			/* new keys (a key repeated in the patch: its first value) */
			if (find_member(t, p->m[j].key) >= 0 || find_member(p, p->m[j].key) != j || is_null(pv))
				continue;
			/* the result must be one the merge can read again */
			if (++kept > JSON_MERGE_MAX_MEMBERS)
			{
				snprintf(err, errlen, "too many members in an object of the result");
				return false;
			}
			json_key(jb, p->m[j].key);
			ok = merge_into_nothing(pv, jb, depth + 1, err, errlen);
		}
		json_object_end(jb);
	}
	return ok;
}

bool
json_merge_patch(const char *target, size_t target_len, const char *patch,
				 size_t patch_len, JsonBuf *jb, char *err, size_t errlen)
{
	Span		t = trimmed(target, target_len);
	Span		p = trimmed(patch, patch_len);

	if (is_object(p) && !json_is_object(p.p, p.len))
	{
		snprintf(err, errlen, "the patch is not valid JSON");
		return false;
	}
	if (is_object(t) && !json_is_object(t.p, t.len))
	{
		snprintf(err, errlen, "the document is not valid JSON");
		return false;
	}
	if (!is_object(p) && !json_is_value(p.p, p.len))
	{
		snprintf(err, errlen, "the patch is not valid JSON");
		return false;
	}
	return merge(t, p, jb, 1, err, errlen);
}
