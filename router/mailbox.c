/*
 * mailbox.c - messages between loops: a locked queue into one loop, woken by
 * its uv_async_t (uv_async_send is the one libuv call that is safe from
 * another thread; several sends before the loop runs wake it once, so a
 * burst of messages costs one wake-up).  The owning loop takes the whole
 * queue at once in its async callback.  Also the routing snapshot's release,
 * since views travel in messages.
 */
#include "router.h"

#include <stdlib.h>
#include <unistd.h>

int
mailbox_init(uv_loop_t *loop, Mailbox *mailbox, uv_async_cb cb)
{
	int			rc;

	list_init(&mailbox->queue);
	mailbox->closed = false;
	rc = uv_mutex_init(&mailbox->lock);
	if (rc < 0)
		return rc;
	rc = uv_async_init(loop, &mailbox->async, cb);
	if (rc < 0)
		uv_mutex_destroy(&mailbox->lock);
	return rc;
}

Msg *
msg_new(MsgType type)
{
	Msg		   *msg = calloc(1, sizeof(*msg));

	if (msg == NULL)
		return NULL;
	msg->type = type;
	msg->fd = -1;
	return msg;
}

/* What a message still owns, released when it is dropped undelivered or handled. */
void
msg_free(Msg *msg)
{
	if (msg->fd >= 0)
		close(msg->fd);
	if (msg->node)
		node_unref(msg->node);
	if (msg->view)
		view_unref(msg->view);
	free(msg);
}

/* Queues msg (now the mailbox's); false (msg freed) once the mailbox is closed. */
bool
mailbox_post(Mailbox *mailbox, Msg *msg)
{
	bool		closed;

	uv_mutex_lock(&mailbox->lock);
	closed = mailbox->closed;
	if (!closed)
		list_push_back(&mailbox->queue, &msg->link);
	uv_mutex_unlock(&mailbox->lock);
	if (closed)
	{
		msg_free(msg);
		return false;
	}
	uv_async_send(&mailbox->async);
	return true;
}

/* Moves every queued message to out (an initialised list), oldest first. */
void
mailbox_take(Mailbox *mailbox, ListLink *out)
{
	uv_mutex_lock(&mailbox->lock);
	if (!list_empty(&mailbox->queue))
	{
		out->next = mailbox->queue.next;
		out->prev = mailbox->queue.prev;
		out->next->prev = out;
		out->prev->next = out;
		list_init(&mailbox->queue);
	}
	uv_mutex_unlock(&mailbox->lock);
}

/* Takes the queue and gives each message, oldest first, to handle (which frees it). */
void
mailbox_deliver(Mailbox *mailbox, void (*handle) (void *owner, Msg *msg), void *owner)
{
	ListLink	mail;
	ListLink   *pos;
	ListLink   *tmp;

	list_init(&mail);
	mailbox_take(mailbox, &mail);
	list_for_each_safe(pos, tmp, &mail)
	{
		list_remove(pos);
		handle(owner, container_of(pos, Msg, link));
	}
}

/*
 * Refuses further messages, drops those not yet taken and closes the async
 * handle (cb frees what holds it).  The lock is destroyed by the owner
 * after the loop has ended, when no thread can post any more.
 */
void
mailbox_close(Mailbox *mailbox, uv_close_cb cb)
{
	ListLink	left;
	ListLink   *pos;
	ListLink   *tmp;

	list_init(&left);
	uv_mutex_lock(&mailbox->lock);
	mailbox->closed = true;
	uv_mutex_unlock(&mailbox->lock);
	mailbox_take(mailbox, &left);
	list_for_each_safe(pos, tmp, &left)
		msg_free(container_of(pos, Msg, link));
	uv_close((uv_handle_t *) &mailbox->async, cb);
}

void
view_unref(RouteView *view)
{
	if (atomic_fetch_sub(&view->refs, 1) != 1)
		return;
	for (int i = 0; i < view->n_nodes; i++)
		node_unref(view->nodes[i].node);
	free(view);
}

/* Tells the main loop that a client of w could not connect to node: it checks the node at once. */
void
mailbox_report_connect_failed(Worker *w, Node *node, ServiceKind kind)
{
	Msg		   *msg = msg_new(MSG_CHECK_NOW);

	if (msg == NULL)
		return;
	node_ref(node);
	msg->node = node;
	msg->kind = kind;
	mailbox_post(&w->ctx->inbox, msg);
}

/* Tells the main loop, while draining, that a session of w has ended. */
void
mailbox_report_session_closed(Worker *w)
{
	Msg		   *msg = msg_new(MSG_SESSION_CLOSED);

	if (msg != NULL)
		mailbox_post(&w->ctx->inbox, msg);
}
