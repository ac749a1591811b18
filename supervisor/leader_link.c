/*-------------------------------------------------------------------------
 *
 * leader_link.c
 *	  The libpq link to the leader: its identity, timeline and position
 *	  over a replication connection, and CHECKPOINT (see leader_link.h).
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "conninfo.h"
#include "ha_types.h"
#include "log.h"
#include "leader_link.h"
#include "rewind.h"
#include "run.h"
#include "text.h"

const char *
pg_password_env(const char *password)
{
	static char buf[CONF_STR_LEN + 16];

	if (password == NULL || password[0] == '\0')
		return NULL;
	snprintf(buf, sizeof(buf), "PGPASSWORD=%s", password);
	return buf;
}

static PGconn *
connect_to(const char *base, const char *user, const char *password, bool replication,
		   char *err, size_t errlen)
{
	char		ci[2048];
	PGconn	   *conn;

	snprintf(ci, sizeof(ci), "%s", base);
	if (!conninfo_add(ci, sizeof(ci), "user", user) ||
		(password[0] && !conninfo_add(ci, sizeof(ci), "password", password)) ||
		!conninfo_add(ci, sizeof(ci), "dbname", replication ? "replication" : "postgres") ||
		(replication && !conninfo_add(ci, sizeof(ci), "replication", "true")) ||
		!conninfo_add(ci, sizeof(ci), "connect_timeout", "5") ||
		!conninfo_add(ci, sizeof(ci), "application_name", "pg_ha_supervisor"))
	{
		snprintf(err, errlen, "connection string too long");
		return NULL;
	}
	conn = PQconnectdb(ci);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
	{
		snprintf(err, errlen, "%s", conn ? PQerrorMessage(conn) : "out of memory");
		{
			size_t		l = strlen(err);

			while (l > 0 && (err[l - 1] == '\n' || err[l - 1] == ' '))
				err[--l] = '\0';
		}
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

bool
pg_leader_ensure_slot(const NodeConf *c, const char *leader_conninfo, const char *slot,
					  char *err, size_t errlen)
{
	PGconn	   *conn;
	PGresult   *res;
	char		cmd[128];
	const char *state;
	bool		ok;

	conn = connect_to(leader_conninfo, c->replication_user, c->replication_password, true,
					  err, errlen);
	if (conn == NULL)
		return false;
	/* a slot name is [a-z0-9_] (common/slot_name.c): nothing to quote */
	snprintf(cmd, sizeof(cmd), "CREATE_REPLICATION_SLOT \"%s\" PHYSICAL RESERVE_WAL", slot);
	res = PQexec(conn, cmd);
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	/* 42710 duplicate_object: it has it already (the agent made it, or a copy) */
	ok = PQresultStatus(res) == PGRES_TUPLES_OK || (state && strcmp(state, "42710") == 0);
	if (!ok)
	{
		size_t		l;

		snprintf(err, errlen, "%s", PQerrorMessage(conn));
		l = strlen(err);
		while (l > 0 && (err[l - 1] == '\n' || err[l - 1] == ' '))
			err[--l] = '\0';
	}
	PQclear(res);
	PQfinish(conn);
	return ok;
}

bool
pg_leader_info(const NodeConf *c, const char *leader_conninfo, LeaderInfo *li,
			   char *err, size_t errlen)
{
	PGconn	   *conn;
	PGresult   *res;
	const char *hs;

	memset(li, 0, sizeof(*li));
	conn = connect_to(leader_conninfo, c->replication_user, c->replication_password, true,
					  err, errlen);
	if (conn == NULL)
		return false;
	hs = PQparameterStatus(conn, "in_hot_standby");
	li->in_recovery = hs != NULL && strcmp(hs, "on") == 0;

	res = PQexec(conn, "IDENTIFY_SYSTEM");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 || PQnfields(res) < 3)
	{
		snprintf(err, errlen, "IDENTIFY_SYSTEM failed: %s", PQerrorMessage(conn));
		PQclear(res);
		PQfinish(conn);
		return false;
	}
	li->system_id = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	li->timeline = (uint32_t) strtoul(PQgetvalue(res, 0, 1), NULL, 10);
	if (!lsn_parse(PQgetvalue(res, 0, 2), &li->xlogpos))
	{
		snprintf(err, errlen, "IDENTIFY_SYSTEM returned a bad position \"%s\"", PQgetvalue(res, 0, 2));
		PQclear(res);
		PQfinish(conn);
		return false;
	}
	PQclear(res);

	if (li->timeline > 1)
	{
		char		cmd[64];
		const char *v;
		int			vl;

		snprintf(cmd, sizeof(cmd), "TIMELINE_HISTORY %u", li->timeline);
		res = PQexec(conn, cmd);
		if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 || PQnfields(res) < 2)
		{
			snprintf(err, errlen, "%s failed: %s", cmd, PQerrorMessage(conn));
			PQclear(res);
			PQfinish(conn);
			return false;
		}
		v = PQgetvalue(res, 0, 1);
		vl = PQgetlength(res, 0, 1);
		if (vl >= 2 && v[0] == '\\' && v[1] == 'x')
		{
			/* bytea in hex output */
			size_t		o = 0;

			for (int i = 2; i + 1 < vl && o < sizeof(li->history) - 1; i += 2)
			{
				int			h = text_hex_value(v[i]),
							l = text_hex_value(v[i + 1]);

				if (h < 0 || l < 0)
					break;
				li->history[o++] = (char) (h * 16 + l);
			}
			li->history[o] = '\0';
		}
		else
			snprintf(li->history, sizeof(li->history), "%.*s", vl, v);
		PQclear(res);
	}
	PQfinish(conn);
	return true;
}

bool
pg_leader_checkpoint(const NodeConf *c, const char *leader_conninfo, char *err, size_t errlen)
{
	PGconn	   *conn = connect_to(leader_conninfo, c->superuser, c->superuser_password, false,
								  err, errlen);
	PGresult   *res;
	bool		ok;

	if (conn == NULL)
		return false;
	res = PQexec(conn, "CHECKPOINT");
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		snprintf(err, errlen, "CHECKPOINT failed: %s", PQerrorMessage(conn));
	PQclear(res);
	PQfinish(conn);
	return ok;
}
