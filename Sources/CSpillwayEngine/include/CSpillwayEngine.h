// Linux calls the Glibc module does not import: epoll, eventfd and accept4, for SpillwayEngine's loops.
#ifndef C_SPILLWAY_ENGINE_H
#define C_SPILLWAY_ENGINE_H

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

// accept4 is declared by <sys/socket.h> only under _GNU_SOURCE, and defining that here would give other
// glibc headers (sys/select.h's fd_set) definitions different from the ones the Glibc module sees, which a
// clean build refuses. So it is declared here, as glibc defines it.
extern int accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);

static inline int spillway_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags) {
    return accept4(fd, address, length, flags);
}

#endif
