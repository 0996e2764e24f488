/* SPDX-License-Identifier: MIT */
/*
 * The configuration file parser: inih (Debian's shared libinih 55) splits the lines, a
 * reader wrapped around the text numbers them, strips comments, rejects malformed lines
 * and opens sections, and one handler stores each key into a struct conf. Every error
 * stops the parse and names FILE:LINE; a failed parse returns nothing. Running hooks,
 * applying the result and re-resolving endpoints are the caller's business.
 *
 * inih's defaults misparse wg-style files (PROTOCOL.md §3): a long AllowedIPs line would
 * come in 200-byte pieces, an indented line would be glued to the previous value, and two
 * [Peer] headers in a row would look like one section. So the reader, not inih, decides
 * what a line is, and inih is run with a heap buffer that grows to any line length.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wgd/conf.h"
#include "wgd/conf_parse.h"

enum {
	CONF_KEY_LINE_MAX = CONF_MAX_FILE + 4, /* a whole file fits in one inih line */
};

/* --- messages ------------------------------------------------------------------------ */

static void vfail_at(struct conf_parse *p, unsigned int line, const char *fmt, va_list ap)
{
	int n;

	if (p->ret)
		return;
	p->ret = -EINVAL;
	if (!p->err || !p->errlen)
		return;
	n = snprintf(p->err, p->errlen, "%s:%u: ", p->name, line);
	if (n >= 0 && (size_t)n < p->errlen)
		vsnprintf(p->err + n, p->errlen - n, fmt, ap);
}

bool conf_fail_at(struct conf_parse *p, unsigned int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail_at(p, line, fmt, ap);
	va_end(ap);
	return false;
}

bool conf_fail(struct conf_parse *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail_at(p, p->line, fmt, ap);
	va_end(ap);
	return false;
}

bool conf_oom(struct conf_parse *p)
{
	conf_fail(p, "out of memory");
	p->ret = -ENOMEM;
	return false;
}

void conf_warn_add(char *warn, size_t warnlen, const char *fmt, ...)
{
	size_t used;
	va_list ap;
	int n;

	if (!warn || !warnlen)
		return;
	used = strlen(warn);
	va_start(ap, fmt);
	n = vsnprintf(warn + used, warnlen - used, fmt, ap);
	va_end(ap);
	if (n >= 0 && used + n + 1 < warnlen)
		strcat(warn, "\n");
}

static bool eq_ci(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && !strncasecmp(s, word, len);
}

/* --- sections and the inih callbacks ---------------------------------------------------- */

static const char *section_name(enum conf_section s)
{
	return s == CONF_SECTION_INTERFACE ? "[Interface]" : "[Peer]";
}

static bool end_section(struct conf_parse *p)
{
	if (p->section == CONF_SECTION_PEER && !p->seen[CONF_SLOT_PUBLIC_KEY])
		return conf_fail_at(p, p->section_line, "[Peer] without PublicKey");
	if (p->section == CONF_SECTION_INTERFACE && !p->seen[CONF_SLOT_PRIVATE_KEY] &&
	    p->mode == CONF_FULL)
		return conf_fail_at(p, p->section_line, "[Interface] without PrivateKey");
	return true;
}

static bool add_peer(struct conf_parse *p)
{
	struct conf *c = p->conf;
	size_t old_cap = c->dev.peers_cap;
	struct conf_peer_extra *extra;
	struct cfg_peer *peer = cfg_device_add_peer(&c->dev);

	if (!peer)
		return conf_oom(p);
	if (c->dev.peers_cap != old_cap) {
		extra = realloc(c->peer_extra, c->dev.peers_cap * sizeof(*extra));
		if (!extra) {
			c->dev.peers_len--;
			return conf_oom(p);
		}
		c->peer_extra = extra;
	}
	peer->flags = CFG_PEER_REPLACE_ALLOWEDIPS; /* what wg(8) sets for each [Peer] */
	c->peer_extra[c->dev.peers_len - 1] = (struct conf_peer_extra){ .line = p->line };
	return true;
}

/* s..e is a trimmed line starting with '['. */
static bool begin_section(struct conf_parse *p, const char *s, const char *e)
{
	const char *n = s + 1, *ne = e - 1;

	if (e - s < 2 || *ne != ']')
		return conf_fail(p,
				 "malformed section header (expected `[Interface]' or `[Peer]')");
	conf_trim(&n, &ne);
	if (!end_section(p))
		return false;
	if (eq_ci(n, ne - n, "Interface")) {
		if (p->mode == CONF_DROPIN)
			return conf_fail(p, "[Interface] in a drop-in: only [Peer] sections "
					    "are allowed here");
		if (p->interface_line)
			return conf_fail(p, "second [Interface] section (first at line %u)",
					 p->interface_line);
		p->interface_line = p->line;
		p->section = CONF_SECTION_INTERFACE;
	} else if (eq_ci(n, ne - n, "Peer")) {
		if (!add_peer(p))
			return false;
		p->section = CONF_SECTION_PEER;
	} else {
		return conf_fail(p, "unknown section `[%.*s]'", (int)(ne - n), n);
	}
	p->section_line = p->line;
	memset(p->seen, 0, sizeof(p->seen));
	p->emit_len = e - s;
	return true;
}

/*
 * s..e is a trimmed "Key = value" line. inih would also take "Key: value", which wg(8)
 * does not: refused. A PrivateKey or PresharedKey value is kept back from inih, whose
 * line buffer is freed unwiped, and read by the handler from the text itself.
 */
static bool key_line(struct conf_parse *p, const char *s, const char *e)
{
	const char *sep = s, *ks = s, *ke, *vs, *ve = e;

	while (sep < e && *sep != '=' && *sep != ':')
		sep++;
	if (sep == e)
		return conf_fail(p, "expected `Key = value', `[Interface]' or `[Peer]'");
	if (*sep == ':')
		return conf_fail(p, "expected `=' after the key, not `:'");
	ke = sep;
	vs = sep + 1;
	conf_trim(&ks, &ke);
	if (ks == ke)
		return conf_fail(p, "missing key before `='");
	p->emit_len = e - s;
	if (eq_ci(ks, ke - ks, "PrivateKey"))
		p->has_private_key_text = true;
	else if (eq_ci(ks, ke - ks, "PresharedKey"))
		p->has_psk_text = true;
	else
		return true;
	conf_trim(&vs, &ve);
	p->secret = vs;
	p->secret_len = ve - vs;
	p->emit_len = sep + 1 - s;
	return true;
}

/* Takes the next line of the text and decides what inih gets to see of it. */
static bool next_line(struct conf_parse *p)
{
	const char *s = p->text + p->pos, *e, *nl, *hash;

	if (p->ret || p->pos >= p->len)
		return false;
	nl = memchr(s, '\n', p->len - p->pos);
	e = nl ? nl : p->text + p->len;
	p->pos = e - p->text + (nl ? 1 : 0);
	p->line++;
	p->secret = NULL;
	p->secret_len = 0;
	if (memchr(s, '\0', e - s))
		return conf_fail(p, "NUL byte in line");
	/* a UTF-8 byte order mark, as Windows editors write */
	if (p->line == 1 && e - s >= 3 && !memcmp(s, "\xef\xbb\xbf", 3))
		s += 3;
	hash = memchr(s, '#', e - s); /* wg(8) and wg-quick: '#' starts a comment anywhere */
	if (hash)
		e = hash;
	conf_trim(&s, &e);
	p->emit = s;
	p->emit_len = 0;
	p->emitting = true;
	if (s == e || *s == ';')
		return true;
	if (*s == '[')
		return begin_section(p, s, e);
	return key_line(p, s, e);
}

/* An fgets() for inih: at most num - 1 bytes, the line ending in '\n'. */
static char *read_line(char *buf, int num, void *stream)
{
	struct conf_parse *p = stream;
	size_t room, n;

	if (num < 2 || (!p->emitting && !next_line(p)))
		return NULL;
	room = (size_t)num - 1;
	n = p->emit_len < room ? p->emit_len : room;
	memcpy(buf, p->emit, n);
	p->emit += n;
	p->emit_len -= n;
	if (n < room) {
		buf[n++] = '\n';
		p->emitting = false;
	}
	buf[n] = '\0';
	return buf;
}

static bool claim_slot(struct conf_parse *p, const struct conf_key *k)
{
	const struct conf_key *other;

	if (k->slot == CONF_SLOT_REPEATABLE)
		return true;
	other = p->seen_key[k->slot];
	if (p->seen[k->slot] && other == k)
		return conf_fail(p, "%s given twice (first at line %u)", k->name, p->seen[k->slot]);
	if (p->seen[k->slot])
		return conf_fail(p, "both %s and %s given (the other at line %u)",
				 (other < k ? other : k)->name, (other < k ? k : other)->name,
				 p->seen[k->slot]);
	p->seen[k->slot] = p->line;
	p->seen_key[k->slot] = k;
	return true;
}

static int handle(void *user, const char *section, const char *name, const char *value)
{
	char secret[KEY_B64_LEN + 1];
	struct conf_parse *p = user;
	const struct conf_key *k;
	bool ok;

	(void)section; /* the reader tracks sections, since inih cannot count headers */
	if (p->ret)
		return 0;
	if (p->section == CONF_SECTION_NONE)
		return conf_fail(p, "key `%s' outside a section", name);
	k = conf_key_lookup(name, p->section);
	if (!k)
		return conf_fail(p, "unknown key `%s' in %s", name, section_name(p->section));
	if (p->secret ? !p->secret_len : !*value)
		return conf_fail(p, "empty value for %s", k->name);
	if (!claim_slot(p, k))
		return 0;
	p->key = k;
	if (!p->secret)
		return k->parse(p, value);
	/* a wrong length cannot be a key: let the parser refuse it */
	memset(secret, 0, sizeof(secret));
	if (p->secret_len == KEY_B64_LEN)
		memcpy(secret, p->secret, KEY_B64_LEN);
	ok = k->parse(p, secret);
	wipe(secret, sizeof(secret));
	return ok;
}

/* --- entry points -------------------------------------------------------------------- */

struct ini_options {
	int max_line;
	bool use_stack, allow_realloc, allow_multiline, allow_bom, allow_inline_comments,
		stop_on_first_error, allow_no_value;
	char *inline_comment_prefixes, *start_comment_prefixes;
};

/* Debian's libinih reads these globals at run time; the compile-time macros do nothing. */
static void ini_options_swap(struct ini_options *o)
{
	struct ini_options cur = { ini_max_line,
				   ini_use_stack,
				   ini_allow_realloc,
				   ini_allow_multiline,
				   ini_allow_bom,
				   ini_allow_inline_comments,
				   ini_stop_on_first_error,
				   ini_allow_no_value,
				   ini_inline_comment_prefixes,
				   ini_start_comment_prefixes };

	ini_max_line = o->max_line;
	ini_use_stack = o->use_stack;
	ini_allow_realloc = o->allow_realloc;
	ini_allow_multiline = o->allow_multiline;
	ini_allow_bom = o->allow_bom;
	ini_allow_inline_comments = o->allow_inline_comments;
	ini_stop_on_first_error = o->stop_on_first_error;
	ini_allow_no_value = o->allow_no_value;
	ini_inline_comment_prefixes = o->inline_comment_prefixes;
	ini_start_comment_prefixes = o->start_comment_prefixes;
	*o = cur;
}

static bool finish(struct conf_parse *p)
{
	if (!end_section(p))
		return false;
	if (!p->interface_line && p->mode == CONF_FULL)
		return conf_fail_at(p, 1, "missing [Interface] section");
	return true;
}

static char *dir_of(const char *name)
{
	const char *slash = strrchr(name, '/');

	if (!slash)
		return NULL;
	return slash == name ? strdup("/") : strndup(name, slash - name);
}

static int parse_text(struct conf *out, struct conf_parse *p)
{
	/*
	 * No '#' reaches inih (the reader cuts comments) and ';' must not end a hook value.
	 * The reader also trims every line, so inih's continuation rule could not glue an
	 * indented line on even if multiline were on; it is off all the same.
	 */
	static char inline_prefixes[] = "#", start_prefixes[] = ";#";
	struct ini_options opts = {
		.max_line = CONF_KEY_LINE_MAX, /* never split a line */
		.use_stack = false,
		.allow_realloc = true,
		.allow_inline_comments = true,
		.stop_on_first_error = true,
		.inline_comment_prefixes = inline_prefixes,
		.start_comment_prefixes = start_prefixes,
	};
	int r;

	memset(out, 0, sizeof(*out)); /* no flags: the key parsers set those of their keys */
	p->conf = out;
	if (p->len > CONF_MAX_FILE)
		conf_fail_at(p, 1, "file too large");
	else if (strchr(p->name, '/') && !(p->dir = dir_of(p->name)))
		conf_oom(p);
	if (!p->ret) {
		ini_options_swap(&opts);
		r = ini_parse_stream(read_line, p, handle, p);
		ini_options_swap(&opts);
		if (r == -2)
			conf_oom(p);
		else if (r)
			conf_fail_at(p, r > 0 ? (unsigned int)r : p->line, "syntax error");
		else
			finish(p);
	}
	free(p->dir);
	if (p->ret) {
		conf_clear(out);
		if (p->warn && p->warnlen)
			p->warn[0] = '\0';
	}
	return p->ret;
}

int conf_parse_string_mode(struct conf *out, const char *name, const char *text, size_t len,
			   enum conf_mode mode, char *err, size_t errlen)
{
	struct conf_parse p = {
		.name = name, .text = text, .len = len, .err = err, .errlen = errlen, .mode = mode
	};

	if (err && errlen)
		err[0] = '\0';
	return parse_text(out, &p);
}

int conf_parse_string(struct conf *out, const char *name, const char *text, size_t len, char *err,
		      size_t errlen)
{
	return conf_parse_string_mode(out, name, text, len, CONF_FULL, err, errlen);
}

/* Reads all of fd into a buffer the caller wipes and frees; grows without realloc(). */
static int read_all(int fd, size_t hint, char **out, size_t *out_len)
{
	size_t cap = hint + 1, len = 0;
	char *buf = malloc(cap), *bigger;
	ssize_t r;

	if (!buf)
		return -ENOMEM;
	while ((r = read(fd, buf + len, cap - len)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || len + r > CONF_MAX_FILE) {
			r = r < 0 ? -errno : -EFBIG;
			wipe(buf, cap);
			free(buf);
			return (int)r;
		}
		len += r;
		if (len < cap)
			continue;
		bigger = malloc(cap * 2);
		if (!bigger) {
			wipe(buf, cap);
			free(buf);
			return -ENOMEM;
		}
		memcpy(bigger, buf, len);
		wipe(buf, cap);
		free(buf);
		buf = bigger;
		cap *= 2;
	}
	*out = buf;
	*out_len = len;
	return 0;
}

int conf_parse_file_mode(struct conf *out, const char *path, enum conf_mode mode, char *err,
			 size_t errlen, char *warn, size_t warnlen)
{
	struct conf_parse p = { .name = path,
				.err = err,
				.errlen = errlen,
				.warn = warn,
				.warnlen = warnlen,
				.mode = mode };
	char *text = NULL;
	struct stat st;
	int fd, ret;

	memset(out, 0, sizeof(*out));
	if (err && errlen)
		err[0] = '\0';
	if (warn && warnlen)
		warn[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0) {
		ret = -errno;
	} else if (S_ISDIR(st.st_mode)) {
		ret = -EISDIR;
	} else {
		size_t hint = S_ISREG(st.st_mode) && st.st_size < CONF_MAX_FILE ? st.st_size : 0;

		ret = read_all(fd, hint, &text, &p.len);
	}
	if (fd >= 0)
		close(fd);
	if (ret) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path,
				 ret == -EFBIG ? "file too large" : strerror(-ret));
		return ret;
	}
	p.text = text;
	ret = parse_text(out, &p);
	if (!ret && S_ISREG(st.st_mode) && (st.st_mode & (S_IRGRP | S_IROTH)) &&
	    (p.has_private_key_text || p.has_psk_text))
		conf_warn_add(warn, warnlen,
			      "%s: warning: holds a %s but is readable by group or others", path,
			      p.has_private_key_text ? "private key" : "preshared key");
	wipe(text, p.len);
	free(text);
	return ret;
}

int conf_parse_file(struct conf *out, const char *path, char *err, size_t errlen, char *warn,
		    size_t warnlen)
{
	return conf_parse_file_mode(out, path, CONF_FULL, err, errlen, warn, warnlen);
}

void conf_clear(struct conf *c)
{
	char **lists[] = { c->dns, c->pre_up, c->post_up, c->pre_down, c->post_down };
	size_t lens[] = { c->dns_len, c->pre_up_len, c->post_up_len, c->pre_down_len,
			  c->post_down_len };

	for (size_t i = 0; i < c->dev.peers_len && c->peer_extra; i++) {
		free(c->peer_extra[i].endpoint_host);
		free(c->peer_extra[i].file);
		free(c->peer_extra[i].reach);
	}
	free(c->netns);
	free(c->vrf);
	free(c->peer_extra);
	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
		for (size_t i = 0; i < lens[l]; i++)
			free(lists[l][i]);
		free(lists[l]);
	}
	free(c->addresses);
	free(c->user);
	free(c->admin_group);
	cfg_device_clear(&c->dev);
	wipe(c, sizeof(*c));
}

int conf_resolve_endpoints(struct conf *c, const char *name, char *err, size_t errlen)
{
	for (size_t i = 0; i < c->dev.peers_len; i++) {
		struct conf_peer_extra *x = &c->peer_extra[i];
		struct cfg_peer *peer = &c->dev.peers[i];
		int r, sys_errno;

		if (!x->is_endpoint_name)
			continue;
		r = conf_endpoint_resolve(x->endpoint_host, x->endpoint_port, &peer->endpoint,
					  &sys_errno);
		if (r) {
			if (err && errlen)
				snprintf(err, errlen,
					 "%s:%u: cannot resolve Endpoint host `%s': %s",
					 x->file ? x->file : name, x->endpoint_line,
					 x->endpoint_host, conf_endpoint_strerror(r, sys_errno));
			return -EINVAL;
		}
		peer->flags |= CFG_PEER_HAS_ENDPOINT;
	}
	return 0;
}

/* --- writing ------------------------------------------------------------------------- */

static void write_allowedips(FILE *f, const struct cfg_peer *peer)
{
	char addr[INET6_ADDRSTRLEN];
	bool first = true;

	for (size_t i = 0; i < peer->allowedips_len; i++) {
		const struct cfg_allowedip *a = &peer->allowedips[i];

		if (a->is_removal || !inet_ntop(a->family, &a->ip6, addr, sizeof(addr)))
			continue;
		fprintf(f, "%s%s/%u", first ? "AllowedIPs = " : ", ", addr, a->cidr);
		first = false;
	}
	if (!first)
		fputc('\n', f);
}

/* Numeric, as `wg showconf' prints it: "[v6]:port" or "v4:port". */
static void write_endpoint(FILE *f, const union cfg_sockaddr *ep)
{
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	socklen_t len = ep->sa.sa_family == AF_INET ? sizeof(ep->in4) : sizeof(ep->in6);

	if (getnameinfo(&ep->sa, len, host, sizeof(host), serv, sizeof(serv),
			NI_DGRAM | NI_NUMERICHOST | NI_NUMERICSERV))
		return;
	fprintf(f, strchr(host, ':') ? "Endpoint = [%s]:%s\n" : "Endpoint = %s:%s\n", host, serv);
}

int conf_write_peer(FILE *f, const struct cfg_peer *peer, const char *endpoint_text)
{
	char b64[KEY_B64_LEN + 1];

	key_to_base64(b64, peer->public_key);
	fprintf(f, "[Peer]\nPublicKey = %s\n", b64);
	if ((peer->flags & CFG_PEER_HAS_PRESHARED_KEY) && !key_is_zero(peer->preshared_key)) {
		key_to_base64(b64, peer->preshared_key);
		fprintf(f, "PresharedKey = %s\n", b64);
	}
	wipe(b64, sizeof(b64));
	write_allowedips(f, peer);
	if (endpoint_text)
		fprintf(f, "Endpoint = %s\n", endpoint_text);
	else if ((peer->flags & CFG_PEER_HAS_ENDPOINT) && (peer->endpoint.sa.sa_family == AF_INET ||
							   peer->endpoint.sa.sa_family == AF_INET6))
		write_endpoint(f, &peer->endpoint);
	if (peer->persistent_keepalive_s)
		fprintf(f, "PersistentKeepalive = %u\n", peer->persistent_keepalive_s);
	return ferror(f) ? -EIO : 0;
}

/* A hostname stays a hostname, so the output can be resolved again; addresses come out
 * in canonical form. */
static char *endpoint_text(const struct conf *c, size_t i)
{
	const char *host = c->peer_extra ? c->peer_extra[i].endpoint_host : NULL;
	const struct cfg_peer *peer = &c->dev.peers[i];
	struct in6_addr addr;
	char *text;
	int port;

	if (!host || !(peer->flags & CFG_PEER_HAS_ENDPOINT || c->peer_extra[i].is_endpoint_name) ||
	    inet_pton(AF_INET, host, &addr) == 1 || inet_pton(AF_INET6, host, &addr) == 1)
		return NULL;
	port = c->peer_extra[i].endpoint_port;
	if (asprintf(&text, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port) < 0)
		return NULL;
	return text;
}

int conf_write_wg(const struct conf *c, FILE *f)
{
	const struct cfg_device *dev = &c->dev;
	char b64[KEY_B64_LEN + 1];
	int ret = 0;

	fputs("[Interface]\n", f);
	if (dev->listen_port)
		fprintf(f, "ListenPort = %u\n", dev->listen_port);
	if (dev->fwmark)
		fprintf(f, "FwMark = 0x%x\n", dev->fwmark);
	if (!key_is_zero(dev->private_key)) {
		key_to_base64(b64, dev->private_key);
		fprintf(f, "PrivateKey = %s\n", b64);
		wipe(b64, sizeof(b64));
	}
	fputc('\n', f);
	for (size_t i = 0; i < dev->peers_len && !ret; i++) {
		char *ep = endpoint_text(c, i);

		ret = conf_write_peer(f, &dev->peers[i], ep);
		free(ep);
		if (i + 1 < dev->peers_len)
			fputc('\n', f);
	}
	return ret ? ret : ferror(f) ? -EIO : 0;
}
