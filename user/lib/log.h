/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef PT_LOG_H
#define PT_LOG_H

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern enum log_level log_level;

void logf_(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...) logf_(LOG_ERR, __VA_ARGS__)
#define log_warn(...) logf_(LOG_WARN, __VA_ARGS__)
#define log_info(...) logf_(LOG_INFO, __VA_ARGS__)
#define log_debug(...) logf_(LOG_DEBUG, __VA_ARGS__)

int log_level_parse(const char *s, enum log_level *out);

#endif
