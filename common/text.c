/*-------------------------------------------------------------------------
 *
 * text.c
 *	  Character-level helpers shared by the three programs (see text.h).
 *
 * IDENTIFICATION
 *	  common/text.c
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "text.h"

int
text_hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool
text_valid_name(const char *s, size_t cap)
{
	size_t		len = 0;

	if (s == NULL || s[0] == '\0')
		return false;
	for (; s[len] != '\0'; len++)
	{
		char		c = s[len];

		/* ASCII only: isalnum() would depend on the locale */
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
			return false;
		if (cap != 0 && len + 1 >= cap)
			return false;
	}
	return true;
}

bool
text_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t	v = 0;

	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++)
	{
		uint64_t	d;

		if (*s < '0' || *s > '9')
			return false;
		d = (uint64_t) (*s - '0');
		if (d > max || v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

bool
text_visible_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c <= 0x20 || c >= 0x7f)
			return false;
	}
	return true;
}
