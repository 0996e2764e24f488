/* SPDX-License-Identifier: MIT */
/*
 * The supervisor's endpoint name resolution (resolver.h): the job list and its backoff,
 * the unprivileged child that calls getaddrinfo, and the checks on what it sends back.
 * The child is forked afresh for each batch of due names, so nothing it might have been
 * made to do by a DNS reply lasts beyond that batch.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crypto/key.h"
#include "wgd/clock.h"
#include "wgd/conf.h"
#include "wgd/log.h"
#include "wgd/privs.h"
#include "wgd/resolver.h"
#include "wgd/uapi_client.h"

enum {
	RESOLVER_READ_BATCH = 16, /* records per read() */
	RESOLVER_CHILD_FD = 3,	  /* the child keeps stdio and this pipe, nothing else */
	NS_PER_S = 1000000000,
};

/* --- pure parts ----------------------------------------------------------------------- */

/* getaddrinfo's codes that the resolver may pass on (glibc's, all negative). */
static bool is_known_eai(int32_t status)
{
	static const int codes[] = { EAI_BADFLAGS, EAI_NONAME,	 EAI_AGAIN,   EAI_FAIL,
				     EAI_FAMILY,   EAI_SOCKTYPE, EAI_SERVICE, EAI_MEMORY,
				     EAI_SYSTEM,   EAI_OVERFLOW, EAI_NODATA,  EAI_ADDRFAMILY };

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (status == codes[i])
			return true;
	return false;
}

static bool is_zero(const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i])
			return false;
	return true;
}

static bool address_fields_ok(const struct resolver_record *rec, const struct resolver_job *j)
{
	if (rec->sys_errno || rec->port != j->port)
		return false;
	if (rec->family == AF_INET)
		return !rec->scope_id && is_zero(rec->addr + 4, sizeof(rec->addr) - 4) &&
		       !is_zero(rec->addr, 4);
	return rec->family == AF_INET6 && !is_zero(rec->addr, sizeof(rec->addr));
}

static bool error_fields_ok(const struct resolver_record *rec)
{
	if (!is_known_eai(rec->status) || rec->family || rec->port || rec->scope_id ||
	    !is_zero(rec->addr, sizeof(rec->addr)))
		return false;
	if (rec->status == EAI_SYSTEM)
		return rec->sys_errno > 0 && rec->sys_errno <= RESOLVER_MAX_ERRNO;
	return !rec->sys_errno;
}

int resolver_record_check(const struct resolver_record *rec, const struct resolver_job *jobs,
			  size_t n)
{
	const struct resolver_job *j;

	if (rec->job >= n)
		return -EINVAL;
	j = &jobs[rec->job];
	if (!j->is_asked || j->is_answered)
		return -EINVAL;
	if (rec->status == 0)
		return address_fields_ok(rec, j) ? 0 : -EINVAL;
	return error_fields_ok(rec) ? 0 : -EINVAL;
}

void resolver_record_sockaddr(const struct resolver_record *rec, union cfg_sockaddr *out)
{
	memset(out, 0, sizeof(*out));
	if (rec->family == AF_INET) {
		out->in4.sin_family = AF_INET;
		out->in4.sin_port = htons(rec->port);
		memcpy(&out->in4.sin_addr, rec->addr, sizeof(out->in4.sin_addr));
	} else {
		out->in6.sin6_family = AF_INET6;
		out->in6.sin6_port = htons(rec->port);
		out->in6.sin6_scope_id = rec->scope_id;
		memcpy(&out->in6.sin6_addr, rec->addr, sizeof(out->in6.sin6_addr));
	}
}

uint64_t resolver_backoff_s(unsigned int failures)
{
	uint64_t s = RESOLVER_BACKOFF_FIRST_S;

	for (unsigned int i = 1; i < failures && s < RESOLVER_BACKOFF_MAX_S; i++)
		s *= 2;
	return s < RESOLVER_BACKOFF_MAX_S ? s : RESOLVER_BACKOFF_MAX_S;
}

bool resolver_job_failed(struct resolver_job *j, int error, int sys_errno, uint64_t now_ns)
{
	bool is_news = !j->failures || error != j->last_error || sys_errno != j->last_errno;

	if (j->failures < UINT32_MAX)
		j->failures++;
	j->last_error = error;
	j->last_errno = sys_errno;
	j->retry_ns = now_ns + resolver_backoff_s(j->failures) * NS_PER_S;
	return is_news;
}

uint64_t resolver_next_retry_ns(const struct resolver_job *jobs, size_t n)
{
	uint64_t next = UINT64_MAX;

	for (size_t i = 0; i < n; i++)
		if (!jobs[i].is_done && !jobs[i].is_asked && jobs[i].retry_ns < next)
			next = jobs[i].retry_ns;
	return next;
}

const char *resolver_strerror(int error, int sys_errno)
{
	if (error == RESOLVER_ERR_CHILD)
		return "the resolver process gave no answer";
	return conf_endpoint_strerror(error, sys_errno);
}

/* --- the child -------------------------------------------------------------------------- */

static void record_fill(struct resolver_record *rec, uint32_t job, const struct resolver_job *j)
{
	union cfg_sockaddr sa;
	int sys_errno = 0;
	int r = conf_endpoint_resolve(j->host, j->port, &sa, &sys_errno);

	memset(rec, 0, sizeof(*rec));
	rec->job = job;
	rec->status = r;
	if (r) {
		rec->sys_errno = r == EAI_SYSTEM ? sys_errno : 0;
		return;
	}
	rec->family = sa.sa.sa_family;
	rec->port = j->port;
	if (sa.sa.sa_family == AF_INET) {
		memcpy(rec->addr, &sa.in4.sin_addr, sizeof(sa.in4.sin_addr));
	} else {
		memcpy(rec->addr, &sa.in6.sin6_addr, sizeof(sa.in6.sin6_addr));
		rec->scope_id = sa.in6.sin6_scope_id;
	}
}

/*
 * In the forked child: hold no key and no descriptor but stdio and the pipe, become the
 * worker's user with no capability, then answer each asked job. Never returns.
 */
static void child_run(struct resolver *r, int wr, pid_t parent)
{
	struct resolver_record rec;
	const char *what;
	int ret;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(1);
	if (r->conf)
		conf_clear(r->conf); /* the supervisor's copy of the private key */
	/* Namespace=: the supervisor lives in the tenant's; endpoints are where wgd started */
	if (r->home_netns_fd >= 0 && setns(r->home_netns_fd, CLONE_NEWNET) < 0) {
		log_error("Endpoint resolver: cannot enter the namespace wgd started in: %s",
			  strerror(errno));
		_exit(1);
	}
	if (dup2(wr, RESOLVER_CHILD_FD) < 0 || close_range(RESOLVER_CHILD_FD + 1, ~0U, 0) < 0)
		_exit(1);
	ret = privs_drop_all(r->uid, r->gid, &what);
	if (ret < 0) {
		log_error("Endpoint resolver: %s: %s", what, strerror(-ret));
		_exit(1);
	}
	for (size_t i = 0; i < r->jobs_len; i++) {
		if (!r->jobs[i].is_asked)
			continue;
		record_fill(&rec, (uint32_t)i, &r->jobs[i]);
		if (write(RESOLVER_CHILD_FD, &rec, sizeof(rec)) != (ssize_t)sizeof(rec))
			_exit(1);
	}
	_exit(0);
}

/* --- the supervisor's side ------------------------------------------------------------- */

void resolver_peer_tag(char out[static RESOLVER_PEER_TAG_LEN + 1], const uint8_t *key)
{
	char b64[KEY_B64_LEN + 1];

	key_to_base64(b64, key);
	memcpy(out, b64, RESOLVER_PEER_TAG_LEN);
	out[RESOLVER_PEER_TAG_LEN] = '\0';
}

static void arm_timer(struct resolver *r)
{
	uint64_t at = resolver_next_retry_ns(r->jobs, r->jobs_len);
	struct itimerspec its = { 0 };

	if (r->stale_check_ns < at)
		at = r->stale_check_ns;

	if (r->timer_src.fd < 0 || r->child)
		return; /* a running batch re-arms when it ends */
	if (at != UINT64_MAX) {
		at = at ? at : 1; /* zero would disarm */
		its.it_value.tv_sec = (time_t)(at / NS_PER_S);
		its.it_value.tv_nsec = (long)(at % NS_PER_S);
	}
	if (timerfd_settime(r->timer_src.fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		log_error("Endpoint resolver: cannot arm its timer: %s", strerror(errno));
}

static void note_failure(struct resolver_job *j, int error, int sys_errno, uint64_t now_ns)
{
	char tag[RESOLVER_PEER_TAG_LEN + 1], line[512];
	bool is_news = resolver_job_failed(j, error, sys_errno, now_ns);

	resolver_peer_tag(tag, j->public_key);
	snprintf(line, sizeof(line),
		 "peer %s...: endpoint host `%s' does not resolve yet (%s); retrying in %llu s",
		 tag, j->host, resolver_strerror(error, sys_errno),
		 (unsigned long long)resolver_backoff_s(j->failures));
	if (is_news)
		log_error("%s", line);
	else
		log_verbose("%s", line);
}

/* The resolved address into the worker: update_only, so a removed peer stays removed. */
static void apply(struct resolver *r, struct resolver_job *j, const struct resolver_record *rec)
{
	char tag[RESOLVER_PEER_TAG_LEN + 1], addr[INET6_ADDRSTRLEN] = "?";
	/* a set's reply is one line: only the deadline matters, so no config is needed */
	const struct uapi_client_bounds b = uapi_client_worker_bounds(NULL);
	char why[128];
	struct cfg_device dev = { 0 };
	struct cfg_peer *peer = cfg_device_add_peer(&dev);
	int ret = -ENOMEM;

	resolver_peer_tag(tag, j->public_key);
	inet_ntop(rec->family, rec->addr, addr, sizeof(addr));
	if (peer) {
		memcpy(peer->public_key, j->public_key, sizeof(peer->public_key));
		peer->flags = CFG_PEER_UPDATE_ONLY | CFG_PEER_HAS_ENDPOINT;
		resolver_record_sockaddr(rec, &peer->endpoint);
		ret = uapi_client_set_bounded(r->ifname, &dev, &b);
	}
	cfg_device_clear(&dev);
	if (ret < 0) {
		log_error("peer %s...: cannot set the endpoint %s: %s", tag, addr,
			  uapi_client_worker_strerror(ret, &b, why, sizeof(why)));
		return;
	}
	j->is_done = true;
	j->failures = 0;
	log_info(rec->family == AF_INET6 ? "peer %s...: endpoint host `%s' resolved to [%s]:%u"
					 : "peer %s...: endpoint host `%s' resolved to %s:%u",
		 tag, j->host, addr, j->port);
}

static void stop_child(struct resolver *r)
{
	int status;

	if (r->pipe_src.fd >= 0) {
		loop_del(r->loop, &r->pipe_src);
		close(r->pipe_src.fd);
		r->pipe_src.fd = -1;
	}
	if (!r->child)
		return;
	/* it has closed the pipe or must stop now: either way, no waiting on its goodwill */
	kill(r->child, SIGKILL);
	while (waitpid(r->child, &status, 0) < 0 && errno == EINTR)
		;
	r->child = 0;
}

/* The batch is over (EOF, or a bad record): what got no answer failed. */
static void end_batch(struct resolver *r, uint64_t now_ns)
{
	stop_child(r);
	for (size_t i = 0; i < r->jobs_len; i++) {
		struct resolver_job *j = &r->jobs[i];

		if (j->is_asked && !j->is_answered)
			note_failure(j, RESOLVER_ERR_CHILD, 0, now_ns);
		j->is_asked = false;
		j->is_answered = false;
	}
	arm_timer(r);
}

static void take_record(struct resolver *r, const struct resolver_record *rec, uint64_t now_ns)
{
	struct resolver_job *j = &r->jobs[rec->job];

	j->is_answered = true;
	if (rec->status)
		note_failure(j, rec->status, rec->sys_errno, now_ns);
	else if (j->is_listed)
		resolver_apply_listed(r, j, rec);
	else
		apply(r, j, rec);
}

static void on_pipe(struct loop_source *src, uint32_t events)
{
	struct resolver *r = container_of(src, struct resolver, pipe_src);
	struct resolver_record recs[RESOLVER_READ_BATCH];
	ssize_t n;

	(void)events;
	for (;;) {
		n = read(src->fd, recs, sizeof(recs));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0 || n % (ssize_t)sizeof(recs[0])) {
			if (n != 0)
				log_error("Endpoint resolver: unreadable answer; stopping it");
			break;
		}
		for (size_t i = 0; i < (size_t)n / sizeof(recs[0]); i++) {
			if (resolver_record_check(&recs[i], r->jobs, r->jobs_len) < 0) {
				log_error("Endpoint resolver: invalid answer; stopping it");
				end_batch(r, clock_boottime_ns());
				return;
			}
			take_record(r, &recs[i], clock_boottime_ns());
		}
	}
	end_batch(r, clock_boottime_ns());
}

/* The pipe from the child: the read end non-blocking, both close-on-exec. 0 or -errno. */
static int open_pipe(int fds[2])
{
	int ret;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) == 0)
		return 0;
	ret = -errno;
	close(fds[0]);
	close(fds[1]);
	return ret;
}

/* Forks the resolver for every due job; nothing to do when none is due or one runs. */
static void start_batch(struct resolver *r, uint64_t now_ns)
{
	pid_t parent = getpid(), pid;
	size_t due = 0;
	int fds[2], ret;

	if (r->child)
		return;
	for (size_t i = 0; i < r->jobs_len; i++) {
		struct resolver_job *j = &r->jobs[i];

		j->is_asked = !j->is_done && j->retry_ns <= now_ns;
		due += j->is_asked;
	}
	if (!due) {
		arm_timer(r);
		return;
	}
	ret = open_pipe(fds);
	if (ret < 0) {
		log_error("Endpoint resolver: cannot create its pipe: %s", strerror(-ret));
		end_batch(r, now_ns);
		return;
	}
	pid = fork();
	if (pid == 0)
		child_run(r, fds[1], parent);
	close(fds[1]);
	if (pid < 0) {
		log_error("Endpoint resolver: cannot fork: %s", strerror(errno));
		close(fds[0]);
		end_batch(r, now_ns);
		return;
	}
	r->child = pid;
	r->pipe_src.fd = fds[0];
	if (loop_add(r->loop, &r->pipe_src, EPOLLIN) < 0) {
		log_error("Endpoint resolver: cannot watch its pipe");
		end_batch(r, now_ns);
	}
}

static void on_timer(struct loop_source *src, uint32_t events)
{
	struct resolver *r = container_of(src, struct resolver, timer_src);
	uint64_t expirations;

	(void)events;
	if (read(src->fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		log_error("Endpoint resolver: cannot read its timer: %s", strerror(errno));
	if (clock_boottime_ns() >= r->stale_check_ns && !r->child)
		resolver_stale_check(r, clock_boottime_ns());
	start_batch(r, clock_boottime_ns());
}

int resolver_init(struct resolver *r, struct loop *loop, const char *ifname, uid_t uid, gid_t gid)
{
	int ret;

	memset(r, 0, sizeof(*r));
	r->loop = loop;
	snprintf(r->ifname, sizeof(r->ifname), "%s", ifname);
	r->uid = uid;
	r->gid = gid;
	r->home_netns_fd = -1;
	r->pipe_src = (struct loop_source){ .fd = -1, .fn = on_pipe };
	r->timer_src = (struct loop_source){ .fd = -1, .fn = on_timer };
	r->stale_check_ns = UINT64_MAX;
	r->timer_src.fd = timerfd_create(CLOCK_BOOTTIME, TFD_CLOEXEC | TFD_NONBLOCK);
	if (r->timer_src.fd < 0)
		return -errno;
	ret = loop_add(loop, &r->timer_src, EPOLLIN);
	if (ret < 0) {
		close(r->timer_src.fd);
		r->timer_src.fd = -1;
	}
	return ret;
}

static void jobs_free(struct resolver *r)
{
	for (size_t i = 0; i < r->jobs_len; i++)
		free(r->jobs[i].host);
	free(r->jobs);
	r->jobs = NULL;
	r->jobs_len = 0;
}

int resolver_update(struct resolver *r, struct conf *conf, uint64_t now_ns)
{
	int ret;

	stop_child(r);
	jobs_free(r);
	r->stale_check_ns = UINT64_MAX;
	r->conf = conf;
	ret = resolver_jobs_from_conf(r, conf, now_ns);
	if (ret < 0) {
		log_error("Endpoint resolver: %s; endpoint host names stay unresolved",
			  strerror(-ret));
		jobs_free(r);
		arm_timer(r);
		return ret;
	}
	start_batch(r, now_ns);
	return 0;
}

void resolver_clear(struct resolver *r)
{
	if (!r->loop)
		return; /* never initialised */
	stop_child(r);
	jobs_free(r);
	if (r->timer_src.fd >= 0) {
		loop_del(r->loop, &r->timer_src);
		close(r->timer_src.fd);
		r->timer_src.fd = -1;
	}
	r->conf = NULL;
}
