/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef PT_FSUTIL_H
#define PT_FSUTIL_H

#include <sys/types.h>

/* mkdir -p: 0, or -errno. */
int mkdir_p(const char *path, mode_t mode);

#endif
