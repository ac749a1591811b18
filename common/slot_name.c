/*-------------------------------------------------------------------------
 *
 * slot_name.c
 *	  A member's replication slot name (see slot_name.h).  Pure C.
 *
 *-------------------------------------------------------------------------
 */
#include "slot_name.h"

bool
slot_name_for_member(const char *name, char *out, size_t cap)
{
	size_t		n = 0;

	if (cap == 0)
		return false;
	out[0] = '\0';
	if (name == NULL || name[0] == '\0')
		return false;
	for (const char *p = name; *p && n < SLOT_NAME_LEN - 1; p++)
	{
		char		c = *p;

		if (c >= 'A' && c <= 'Z')
			c = (char) (c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			c = '_';
		if (n + 1 >= cap)
		{
			out[0] = '\0';
			return false;
		}
		out[n++] = c;
	}
	out[n] = '\0';
	return true;
}
