/*
 * devserve_shim.h: thin wrappers for C calls that Swift cannot reach directly on Linux.
 * Glibc's Swift module map hides pipe2, accept4 and posix_spawn_file_actions_addclosefrom_np
 * (they need _GNU_SOURCE), and dlopen's flags and dlerror are simpler to use from here.
 */
#ifndef DEVSERVE_SHIM_H
#define DEVSERVE_SHIM_H

#include <spawn.h>
#include <stddef.h>
#include <stdint.h>

/* pipe2(2) with O_CLOEXEC; returns 0 or -1 with errno set. */
int devserve_shim_pipe_cloexec(int fds[2]);

/* posix_spawn_file_actions_addclosefrom_np(3): close every fd >= from in the child. */
int devserve_shim_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from);

/* dlopen(path, RTLD_NOW | RTLD_LOCAL). */
void *devserve_shim_dlopen_now_local(const char *path);

/* malloc_trim(0): returns free heap pages to the kernel. */
int devserve_shim_malloc_trim(void);

/* Sets the calling thread's parent-death signal (prctl PR_SET_PDEATHSIG). */
int devserve_shim_set_parent_death_signal(int signal);

#endif
