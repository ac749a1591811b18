/*-------------------------------------------------------------------------
 *
 * datadir.c
 *	  The data directory's files: the configuration files of PROTOCOL.md,
 *	  standby.signal, pg_controldata, and removing what this program made
 *	  (see datadir.h).
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
#include "slot_name.h"
#include "datadir.h"
#include "run.h"

/* the node file's settings, then the cluster's (/config), then the agent's own */
#define INCLUDE_LINE_1 "include_if_exists 'pg_ha.conf'"
#define INCLUDE_LINE_2 "include_if_exists 'pg_ha.dynamic.conf'"
#define INCLUDE_LINE_3 "include_if_exists 'pg_ha.runtime.conf'"

DirKind
pgd_dir_kind(const char *dir)
{
	DIR		   *d = opendir(dir);
	struct dirent *e;
	bool		any = false;
	char		path[CONF_PATH_LEN + 32];
	struct stat st;

	if (d == NULL)
		return errno == ENOENT ? DIR_MISSING : DIR_ERROR;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
		{
			any = true;
			break;
		}
	closedir(d);
	if (!any)
		return DIR_EMPTY;
	snprintf(path, sizeof(path), "%s/PG_VERSION", dir);
	if (stat(path, &st) == 0)
		return DIR_DATA;
	return DIR_OTHER;
}

void
pgd_path(const NodeConf *c, const char *file, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/%s", c->data_dir, file);
}

static bool
fsync_dir_of(const char *path)
{
	char		copy[CONF_PATH_LEN + 64];
	int			fd;

	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return false;
	fsync(fd);
	close(fd);
	return true;
}

bool
pgd_write_atomic(const char *path, const char *data, size_t len)
{
	char		tmp[CONF_PATH_LEN + 64];
	int			fd;
	size_t		off = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
	{
		sup_log("could not write \"%s\": %s", tmp, strerror(errno));
		return false;
	}
	while (off < len)
	{
		ssize_t		w = write(fd, data + off, len - off);

		if (w < 0)
		{
			if (errno == EINTR)
				continue;
			sup_log("could not write \"%s\": %s", tmp, strerror(errno));
			close(fd);
			unlink(tmp);
			return false;
		}
		off += (size_t) w;
	}
	if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0)
	{
		sup_log("could not write \"%s\": %s", path, strerror(errno));
		unlink(tmp);
		return false;
	}
	fsync_dir_of(path);
	return true;
}

char *
pgd_read_file(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "re");
	char	   *buf = NULL;
	size_t		cap = 0,
				n = 0;

	if (f == NULL)
		return NULL;
	for (;;)
	{
		size_t		r;

		if (cap - n < 4096)
		{
			char	   *nb;

			if (cap > (64u << 20))
				break;			/* not a small file */
			nb = realloc(buf, cap ? cap * 2 : 8192);
			if (nb == NULL)
				break;
			buf = nb;
			cap = cap ? cap * 2 : 8192;
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	if (buf == NULL)
		return NULL;
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

bool
pgd_controldata(const NodeConf *c, ControlData *cd)
{
	char		prog[CONF_PATH_LEN + 32];
	char	   *out = malloc(32768);
	const char *argv[] = {prog, "-D", c->data_dir, NULL};
	RunSpec		rs;
	char		err[128];
	int			rc;

	if (out == NULL)
		return false;
	snprintf(prog, sizeof(prog), "%s/pg_controldata", c->bin_dir);
	memset(&rs, 0, sizeof(rs));
	rs.label = "pg_controldata";
	rs.argv = argv;
	rs.env = run_c_locale_env;
	rs.capture = out;
	rs.capture_cap = 32768;
	rs.timeout_ms = 30000;
	rs.quiet = true;
	rc = run_program(&rs);
	if (rc != 0)
	{
		free(out);
		return false;
	}
	if (!controldata_parse(out, cd, err, sizeof(err)))
	{
		sup_log("pg_controldata: could not read its output: %s", err);
		free(out);
		return false;
	}
	free(out);
	return true;
}

bool
pgd_write_pg_ha_conf(const NodeConf *c)
{
	char	   *buf = malloc(CONF_PG_HA_CONF_MAX);
	char		path[CONF_PATH_LEN + 32];
	int			n;
	bool		ok;

	if (buf == NULL)
		return false;
	n = conf_render_pg_ha_conf(c, buf, CONF_PG_HA_CONF_MAX);
	if (n < 0)
	{
		sup_log("could not render pg_ha.conf (too large)");
		free(buf);
		return false;
	}
	pgd_path(c, "pg_ha.conf", path, sizeof(path));
	ok = pgd_write_atomic(path, buf, (size_t) n);
	free(buf);
	return ok;
}

/* Is the line at p (up to its newline) line, ignoring surrounding blanks? */
static bool
line_is(const char *p, const char *line)
{
	size_t		ll = strlen(line);

	while (*p == ' ' || *p == '\t')
		p++;
	if (strncmp(p, line, ll) != 0)
		return false;
	p += ll;
	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
	return *p == '\n' || *p == '\0';
}

/*
 * Copies text's lines to out (appending at *o), leaving out those drop()
 * picks; returns whether any was left out.
 */
static bool
copy_lines_except(const char *text, char *out, size_t *o, bool (*drop) (const char *line))
{
	bool		dropped = false;

	for (const char *p = text; *p;)
	{
		const char *nl = strchr(p, '\n');
		size_t		ll = nl ? (size_t) (nl - p + 1) : strlen(p);

		if (drop(p))
			dropped = true;
		else
		{
			memcpy(out + *o, p, ll);
			*o += ll;
		}
		p += ll;
	}
	return dropped;
}

static bool
is_include_line(const char *line)
{
	return line_is(line, INCLUDE_LINE_1) || line_is(line, INCLUDE_LINE_2) ||
		line_is(line, INCLUDE_LINE_3);
}

/* "name = ..." of a setting the agent owns through pg_ha.runtime.conf */
static bool
is_agent_setting(const char *line)
{
	static const char *const names[] = {"primary_conninfo", "primary_slot_name",
	"synchronous_standby_names"};

	while (*line == ' ' || *line == '\t')
		line++;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
	{
		size_t		n = strlen(names[i]);

		if (strncmp(line, names[i], n) == 0 && strchr(" \t=", line[n]) != NULL)
			return true;
	}
	return false;
}

/*
 * postgresql.conf must end with the three include lines (PROTOCOL.md).  They
 * are appended once; if someone added settings after them, the lines are
 * moved back to the end (pg_ha's files must win).
 */
bool
pgd_ensure_includes(const NodeConf *c)
{
	const char *want = INCLUDE_LINE_1 "\n" INCLUDE_LINE_2 "\n" INCLUDE_LINE_3 "\n";
	size_t		wl = strlen(want);
	char		path[CONF_PATH_LEN + 32];
	size_t		len = 0;
	size_t		o = 0;
	char	   *text;
	char	   *out;
	bool		moved = false;
	bool		ok;

	pgd_path(c, "postgresql.conf", path, sizeof(path));
	text = pgd_read_file(path, &len);
	if (text == NULL)
	{
		sup_log("could not read \"%s\": %s", path, strerror(errno));
		return false;
	}
	if (len >= wl && memcmp(text + len - wl, want, wl) == 0)
	{
		free(text);
		return true;			/* already there, in that order, at the end */
	}
	out = malloc(len + 256);
	if (out == NULL)
	{
		free(text);
		return false;
	}
	moved = copy_lines_except(text, out, &o, is_include_line);
	if (o > 0 && out[o - 1] != '\n')
		out[o++] = '\n';
	o += (size_t) sprintf(out + o, "%s%s",
						  moved ? "" : "\n# Added by pg_ha_supervisor (keep these include lines last):\n",
						  want);
	ok = pgd_write_atomic(path, out, o);
	free(text);
	free(out);
	if (ok)
		sup_log(moved ? "config: moved the pg_ha include lines back to the end of postgresql.conf"
				: "config: appended the pg_ha include lines to postgresql.conf");
	return ok;
}

bool
pgd_clean_auto_conf(const NodeConf *c)
{
	char		path[CONF_PATH_LEN + 32];
	size_t		len = 0;
	char	   *text;
	char	   *out;
	size_t		o = 0;
	bool		changed = false;
	bool		ok = true;

	pgd_path(c, "postgresql.auto.conf", path, sizeof(path));
	text = pgd_read_file(path, &len);
	if (text == NULL)
		return errno == ENOENT;
	out = malloc(len + 1);
	if (out == NULL)
	{
		free(text);
		return false;
	}
	changed = copy_lines_except(text, out, &o, is_agent_setting);
	if (changed)
	{
		ok = pgd_write_atomic(path, out, o);
		if (ok)
			sup_log("config: removed primary_conninfo/primary_slot_name/synchronous_standby_names from postgresql.auto.conf");
	}
	free(text);
	free(out);
	return ok;
}

bool
pgd_write_runtime_conf(const NodeConf *c, const char *leader_conninfo)
{
	char		ci[2048] = "";
	char		slot[SLOT_NAME_LEN] = "";
	char		q[4200];
	char		text[4400];
	char		path[CONF_PATH_LEN + 32];
	int			n;

	if (leader_conninfo && leader_conninfo[0])
	{
		if (strlen(leader_conninfo) >= sizeof(ci) - 512)
			return false;
		/* exactly what the agent writes: a different text restarts the WAL receiver */
		if (!conninfo_standby(ci, sizeof(ci), leader_conninfo, c->replication_user,
							  c->replication_password, c->name))
			return false;
		/* the agent's name too (common/slot_name.c): it creates the slots */
		if (c->use_slots && !slot_name_for_member(c->name, slot, sizeof(slot)))
			return false;
	}
	if (conf_quote(ci, q, sizeof(q)) < 0)
		return false;
	/*
	 * Only for standbys.  In synchronous mode a standby keeps a name no
	 * standby has, so if it is promoted no commit is acknowledged before its
	 * agent has named itself leader in /sync (S2: see ha_types.h).
	 */
	n = snprintf(text, sizeof(text),
				 "# Written by pg_ha_supervisor and the pg_ha agent (atomically); do not edit.\n"
				 "primary_conninfo = %s\n"
				 "primary_slot_name = '%s'\n"
				 "recovery_target_timeline = 'latest'\n"
				 "synchronous_standby_names = '%s'\n", q, slot,
				 c->synchronous_mode ? HA_SYNC_NAMES_NOT_YET : "");
	if (n < 0 || (size_t) n >= sizeof(text))
		return false;
	pgd_path(c, "pg_ha.runtime.conf", path, sizeof(path));
	return pgd_write_atomic(path, text, (size_t) n);
}

bool
pgd_is_standby(const NodeConf *c)
{
	char		path[CONF_PATH_LEN + 32];

	pgd_path(c, "standby.signal", path, sizeof(path));
	return access(path, F_OK) == 0;
}

bool
pgd_flag_file(const char *path, bool present)
{
	if (present)
	{
		int			fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

		if (fd < 0)
		{
			sup_log("could not create \"%s\": %s", path, strerror(errno));
			return false;
		}
		fsync(fd);
		close(fd);
		fsync_dir_of(path);
		return true;
	}
	if (unlink(path) != 0 && errno != ENOENT)
	{
		sup_log("could not remove \"%s\": %s", path, strerror(errno));
		return false;
	}
	return true;
}

bool
pgd_set_standby(const NodeConf *c, bool standby)
{
	char		path[CONF_PATH_LEN + 32];

	pgd_path(c, "standby.signal", path, sizeof(path));
	return pgd_flag_file(path, standby);
}

void
pgd_forget_source_files(const NodeConf *c)
{
	static const char *const files[] = {
		"pg_ha.request", "pg_ha.request.tmp", "pg_ha.runtime.conf", "pg_ha.runtime.conf.tmp",
		"pg_ha.conf.tmp", "postmaster.opts", "recovery.signal", NULL
	};

	for (int i = 0; files[i]; i++)
	{
		char		path[CONF_PATH_LEN + 32];

		pgd_path(c, files[i], path, sizeof(path));
		unlink(path);
	}
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void) st;
	(void) ftw;
	if (flag == FTW_DP)
		return rmdir(path) == 0 || errno == ENOENT ? 0 : -1;
	return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
}

bool
pgd_remove_tree(const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return errno == ENOENT;
	if (!S_ISDIR(st.st_mode))
		return unlink(path) == 0;
	if (nftw(path, rm_entry, 32, FTW_DEPTH | FTW_PHYS) != 0)
	{
		sup_log("could not remove \"%s\": %s", path, strerror(errno));
		return false;
	}
	return true;
}
