/*-------------------------------------------------------------------------
 *
 * replies.h
 *	  HTTP clients the agent handed over to be answered here (PROTOCOL.md,
 *	  "Answering a client"; common/reply_socket.h): a POST /restart waits
 *	  for postgres to be back, which its own agent cannot see.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SUP_REPLIES_H
#define SUP_REPLIES_H

#include <stdbool.h>
#include <stdint.h>

/* Binds the reply socket (once, at start); false (logged) if it cannot. */
extern bool replies_open(void);

/* Takes every client waiting on the socket; only our own user's count. */
extern void replies_collect(void);

/* Answers (and closes) every client handed over with token. */
extern void replies_answer(uint64_t token, int status, const char *message,
						   const char *hint);

/* Answers 503 to clients no request claimed within a while (a lost request). */
extern void replies_expire(long long now);

#endif							/* SUP_REPLIES_H */
