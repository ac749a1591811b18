/*-------------------------------------------------------------------------
 *
 * dyn_config.c
 *	  The /config key (see dyn_config.h).
 *
 * IDENTIFICATION
 *	  common/dyn_config.c
 *
 *-------------------------------------------------------------------------
 */
#include "dyn_config.h"

void
dyn_config_render(const HaDynConfig *c, JsonBuf *jb)
{
	json_object_begin(jb);
	json_key(jb, "ttl");
	json_int(jb, c->ttl);
	json_key(jb, "loop_wait");
	json_int(jb, c->loop_wait);
	json_key(jb, "retry_timeout");
	json_int(jb, c->retry_timeout);
	json_key(jb, "maximum_lag_on_failover");
	json_uint(jb, c->maximum_lag_on_failover);
	json_key(jb, "synchronous_mode");
	json_bool(jb, c->synchronous_mode);
	json_key(jb, "synchronous_mode_strict");
	json_bool(jb, c->synchronous_mode_strict);
	json_key(jb, "primary_start_timeout");
	json_int(jb, c->primary_start_timeout);
	if (c->pause)
	{
		json_key(jb, "pause");
		json_bool(jb, true);
	}
	json_key(jb, "postgresql");
	json_object_begin(jb);
	json_key(jb, "parameters");
	json_object_begin(jb);
	json_object_end(jb);
	json_object_end(jb);
	json_object_end(jb);
}
