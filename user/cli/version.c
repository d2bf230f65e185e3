// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* version: the client's, and the daemon's when it answers. A daemon that is
 * down is worth reporting, not failing on: scripts check versions first. */
#include <getopt.h>
#include <stdio.h>
#include "cli.h"

static const char version_usage[] =
    "Usage: podtrace version\n"
    "\n"
    "Print the client version and the version of the podtraced it talks to\n"
    "(\"unreachable\" when the daemon doesn't answer; the exit code stays 0).\n"
    "\n"
    "Flags:\n"
    "  -h, --help   show this help\n";

static const struct option version_opts[] = {
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int cmd_version(int argc, char **argv)
{
	char err[1024];
	json_t *req, *resp;
	const char *msg;
	int c, rc = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", version_opts, NULL)) != -1) {
		if (c != 'h')
			return bad_flag("version", version_usage, c, argv);
		fputs(version_usage, stdout);
		return 0;
	}
	if (optind < argc)
		return usage_error("version", version_usage, "unexpected argument \"%s\"",
				   argv[optind]);
	printf("Client Version: %s\n", PT_VERSION);
	req = json_pack("{s:s}", "cmd", "version");
	resp = client_try(req, err, sizeof(err));
	json_decref(req);
	if (!resp) {
		printf("Server Version: unreachable\n");
		fprintf(stderr, "podtrace: %s\n", err);
	} else if ((msg = jstr(resp, "error", NULL))) {
		fprintf(stderr, "Error from server: %s\n", msg);
		rc = 1;
	} else {
		printf("Server Version: %s\n", jstr(resp, "version", "unknown"));
	}
	json_decref(resp);
	return rc;
}
