#define _GNU_SOURCE
#include "devserve_shim.h"

#include <dlfcn.h>
#include <malloc.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

int devserve_shim_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int devserve_shim_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

void *devserve_shim_dlopen_now_local(const char *path) { return dlopen(path, RTLD_NOW | RTLD_LOCAL); }

int devserve_shim_set_parent_death_signal(int signal) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0, 0, 0);
}
int devserve_shim_malloc_trim(void) { return malloc_trim(0); }
