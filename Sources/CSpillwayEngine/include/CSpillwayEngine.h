// Linux calls the Glibc module does not import: epoll, eventfd and accept4, for SpillwayEngine's loops.
#ifndef C_SPILLWAY_ENGINE_H
#define C_SPILLWAY_ENGINE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

// accept4 is a GNU extension, declared only under _GNU_SOURCE.
static inline int spillway_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags) {
    return accept4(fd, address, length, flags);
}

#endif
