/*-------------------------------------------------------------------------
 *
 * callback_policy.c
 *	  Which callback is due, and with which role (see callback_policy.h).
 *	  Pure: no I/O, no globals.
 *
 * Like Patroni: the first time a postmaster shows its role, on_start (or
 * on_restart after a restart in place, or on_role_change when the role
 * is not the one announced before: a demoted primary that comes back as
 * a replica); a promotion while it runs is on_role_change; a stop on
 * purpose is on_stop, with the role last announced.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "callback_policy.h"

const char *
cb_action_name(CbAction a)
{
	switch (a)
	{
		case CB_NONE:
			return "none";
		case CB_ON_START:
			return "on_start";
		case CB_ON_STOP:
			return "on_stop";
		case CB_ON_RESTART:
			return "on_restart";
		case CB_ON_RELOAD:
			return "on_reload";
		case CB_ON_ROLE_CHANGE:
			return "on_role_change";
	}
	return "none";
}

const char *
cb_role_word(CbRole r)
{
	/* Patroni 3.0 says "master" for a primary: existing scripts match on it */
	return r == CB_ROLE_MASTER ? "master" : r == CB_ROLE_REPLICA ? "replica" : "unknown";
}

CbRole
cb_role_of(const char *pm_status, bool standby_signal)
{
	if (pm_status == NULL)
		return CB_ROLE_NONE;
	if (strncmp(pm_status, "ready", 5) == 0)
		return standby_signal ? CB_ROLE_REPLICA : CB_ROLE_MASTER;
	if (strncmp(pm_status, "standby", 7) == 0)
		return CB_ROLE_REPLICA;
	return CB_ROLE_NONE;
}

CbAction
cb_observe(CbTrack *t, long pid, CbRole role)
{
	CbRole		prev = t->role;
	bool		restart = t->restart;

	if (pid != t->pid)
	{
		/* the postmaster we knew ended without a stop on purpose: a crash */
		if (t->pid != 0)
			t->restart = restart = true;
		t->pid = pid;
		t->announced = false;
	}
	if (pid == 0 || role == CB_ROLE_NONE)
		return CB_NONE;
	if (t->announced)
	{
		if (role == prev)
			return CB_NONE;
		t->role = role;			/* promoted while running */
		return CB_ON_ROLE_CHANGE;
	}
	t->announced = true;
	t->role = role;
	t->restart = false;
	if (prev == CB_ROLE_NONE)
		return CB_ON_START;
	if (prev != role)
		return CB_ON_ROLE_CHANGE;
	return restart ? CB_ON_RESTART : CB_ON_START;
}

CbAction
cb_stopped(CbTrack *t)
{
	bool		was = t->pid != 0 && t->announced;

	t->pid = 0;
	t->announced = false;
	if (t->restart)
		return CB_NONE;			/* on_restart follows instead */
	return was ? CB_ON_STOP : CB_NONE;
}

void
cb_expect_restart(CbTrack *t)
{
	t->restart = true;
}

CbAction
cb_reloaded(const CbTrack *t)
{
	return t->pid != 0 && t->announced ? CB_ON_RELOAD : CB_NONE;
}
