#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/pg_control.h"
#include "core/pg_core.h"
#include "core/pg_log.h"

#define PG_CONTROL_TIMEOUT_MS 1000

static int
pg_control_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return PG_ERROR;
	strcpy(sa->sun_path, path);
	return PG_OK;
}

int
pg_control_listen(const char *path, const char **err)
{
	struct sockaddr_un sa;
	if (pg_control_addr(path, &sa) != PG_OK) {
		*err = "control socket path too long";
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		*err = "socket(AF_UNIX) failed";
		return -1;
	}
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0
	    || listen(fd, 16) != 0) {
		*err = "cannot bind the control socket";
		close(fd);
		return -1;
	}
	chmod(path, 0600);
	return fd;
}

/* Read until newline, EOF or timeout. Returns bytes read or -1. */
static ssize_t
pg_control_read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;
	while (n + 1 < len) {
		struct pollfd p = { fd, POLLIN, 0 };
		int ready = poll(&p, 1, PG_CONTROL_TIMEOUT_MS);
		if (ready < 0 && errno == EINTR)
			continue;       /* a signal for another purpose: go on */
		if (ready <= 0)
			return -1;
		ssize_t r = read(fd, buf + n, len - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (memchr(buf, '\n', n) != NULL)
			break;
	}
	buf[n] = '\0';
	char *nl = strchr(buf, '\n');
	if (nl != NULL)
		*nl = '\0';
	return (ssize_t)n;
}

int
pg_control_accept(int lfd, char *cmd, size_t len)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return -1;
	if (pg_control_read_line(fd, cmd, len) <= 0) {
		close(fd);
		return -1;
	}
	return fd;
}

void
pg_control_reply(int fd, const char *text, size_t len)
{
	while (len > 0) {
		struct pollfd p = { fd, POLLOUT, 0 };
		int ready = poll(&p, 1, PG_CONTROL_TIMEOUT_MS);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0)
			break;
		ssize_t w = write(fd, text, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		text += w;
		len -= (size_t)w;
	}
	close(fd);
}

int
pg_control_alive(const char *path)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int alive = fd >= 0 && pg_control_addr(path, &sa) == PG_OK
		    && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	return alive;
}

int
pg_control_call(const char *path, const char *cmd, FILE *out)
{
	struct sockaddr_un sa;
	char buf[4096];
	int rc = 0, first = 1;

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || pg_control_addr(path, &sa) != PG_OK
	    || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr, "perigee: no server answers on %s (%s); is it "
			"running? start it with 'perigee start -c FILE'\n",
			path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 2;
	}
	size_t cl = strlen(cmd);
	if (write(fd, cmd, cl) != (ssize_t)cl || write(fd, "\n", 1) != 1) {
		close(fd);
		return 2;
	}
	/* A stop answers only once the server is gone: no read timeout. */
	ssize_t r;
	while ((r = read(fd, buf, sizeof(buf))) > 0 || (r < 0 && errno == EINTR)) {
		if (r < 0)
			continue;
		if (first && strncmp(buf, "error:", 6) == 0)
			rc = 1;
		first = 0;
		fwrite(buf, 1, (size_t)r, out);
	}
	close(fd);
	if (first) {
		fprintf(stderr, "perigee: the server closed the control "
			"connection without an answer\n");
		return 2;
	}
	return rc;
}
