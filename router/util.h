/*
 * util.h - small helpers shared by the router's files: an intrusive doubly
 * linked list (sessions, nodes and listeners live on several lists at once
 * without extra allocations) and a growable string buffer for the stats pages.
 */
#ifndef ROUTER_UTIL_H
#define ROUTER_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define container_of(ptr, type, member) \
	((type *) (void *) ((char *) (ptr) - offsetof(type, member)))

#define PRINTF_LIKE(fmt_index, first_arg) \
	__attribute__((format(printf, fmt_index, first_arg)))

typedef struct ListLink
{
	struct ListLink *prev;
	struct ListLink *next;
} ListLink;

static inline void
list_init(ListLink *head)
{
	head->prev = head;
	head->next = head;
}

static inline bool
list_empty(const ListLink *head)
{
	return head->next == head;
}

static inline void
list_push_back(ListLink *head, ListLink *item)
{
	item->prev = head->prev;
	item->next = head;
	head->prev->next = item;
	head->prev = item;
}

/* Unlinks item and leaves it self-linked, so removing twice is harmless. */
static inline void
list_remove(ListLink *item)
{
	item->prev->next = item->next;
	item->next->prev = item->prev;
	item->prev = item;
	item->next = item;
}

/* Iterates safely against removal of pos. */
#define list_for_each_safe(pos, tmp, head) \
	for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head); \
		 (pos) = (tmp), (tmp) = (pos)->next)

/* Growable, always NUL-terminated text buffer; on allocation failure it
 * stops growing and sets failed, so callers check once at the end. */
typedef struct StrBuf
{
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		failed;
} StrBuf;

void		sb_init(StrBuf *sb);
void		sb_free(StrBuf *sb);
void		sb_append(StrBuf *sb, const char *text, size_t len);
void		sb_puts(StrBuf *sb, const char *text);
void		sb_printf(StrBuf *sb, const char *fmt, ...) PRINTF_LIKE(2, 3);
void		sb_html(StrBuf *sb, const char *text);	/* HTML-escaped */
void		sb_json_string(StrBuf *sb, const char *text);	/* quoted, escaped */

/* "3s", "250ms", "2m5s", "1h" style rendering of a duration. */
const char *format_duration(uint64_t ms, char *out, size_t outlen);

#endif
