/*
 * The control socket: a Unix stream socket in the runtime directory. A
 * client sends one command line ("status", "status json", "reload",
 * "stop"); the primary answers with text and closes. An answer whose first
 * line starts with "error:" is a failure.
 */
#ifndef PG_CONTROL_H
#define PG_CONTROL_H

#include <stddef.h>
#include <stdio.h>

/* Bind and listen on path (replacing a stale socket). -1 on failure. */
int pg_control_listen(const char *path, const char **err);

/*
 * Accept one client and read its command line into cmd (at most len-1
 * bytes, without the newline). Returns the client fd or -1.
 */
int pg_control_accept(int lfd, char *cmd, size_t len);

/* Send text to the client and close it. */
void pg_control_reply(int fd, const char *text, size_t len);

/* 1 when a server accepts connections on path. */
int pg_control_alive(const char *path);

/*
 * Client side: send cmd to the server at path and copy the answer to out.
 * Returns 0 on success, 1 on an "error:" answer, 2 when no server answers.
 */
int pg_control_call(const char *path, const char *cmd, FILE *out);

#endif
