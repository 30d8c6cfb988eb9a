/*
 * A minimal managed Docker volume plugin for the aiodocker tests.
 *
 * It listens on /run/docker/plugins/aiodocker.sock (the "socket" of its
 * config.json, inside the plugin's rootfs) and answers the plugin protocol:
 * POST /Plugin.Activate with {"Implements": ["VolumeDriver"]} and the
 * VolumeDriver calls the daemon makes to create, inspect, list and remove
 * volumes. Volumes live in memory only. The value of the settable environment
 * variable GREETING is reported in every volume's Status, so a test can see
 * that `plugins.set` reached the plugin.
 *
 * Build: gcc -static -Os -o aiodocker-volume-plugin volume_plugin.c
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define SOCKET_DIR "/run/docker/plugins"
#define SOCKET_PATH SOCKET_DIR "/aiodocker.sock"
#define MAX_VOLUMES 64
#define NAME_SIZE 128
#define REQUEST_SIZE 65536
#define REPLY_SIZE 16384

static char volumes[MAX_VOLUMES][NAME_SIZE];
static int volume_count;

static int find_volume(const char *name) {
    for (int i = 0; i < volume_count; i++)
        if (strcmp(volumes[i], name) == 0)
            return i;
    return -1;
}

/* Copy the string value of "Name" in a JSON body (no escapes expected). */
static void body_name(const char *body, char *out) {
    out[0] = '\0';
    const char *p = strstr(body, "\"Name\"");
    if (!p)
        return;
    p = strchr(p + 6, '"');
    if (!p)
        return;
    p++;
    size_t n = 0;
    while (*p && *p != '"' && n < NAME_SIZE - 1)
        out[n++] = *p++;
    out[n] = '\0';
}

static const char *greeting(void) {
    const char *value = getenv("GREETING");
    return value ? value : "";
}

static void handle(const char *path, const char *body, char *reply, int *status) {
    char name[NAME_SIZE];
    body_name(body, name);
    *status = 200;
    if (strcmp(path, "/Plugin.Activate") == 0) {
        snprintf(reply, REPLY_SIZE, "{\"Implements\":[\"VolumeDriver\"]}");
    } else if (strcmp(path, "/VolumeDriver.Capabilities") == 0) {
        snprintf(reply, REPLY_SIZE, "{\"Capabilities\":{\"Scope\":\"local\"}}");
    } else if (strcmp(path, "/VolumeDriver.Create") == 0) {
        if (!name[0]) {
            snprintf(reply, REPLY_SIZE, "{\"Err\":\"no volume name\"}");
        } else if (find_volume(name) < 0 && volume_count >= MAX_VOLUMES) {
            snprintf(reply, REPLY_SIZE, "{\"Err\":\"too many volumes\"}");
        } else {
            if (find_volume(name) < 0)
                strcpy(volumes[volume_count++], name);
            snprintf(reply, REPLY_SIZE, "{\"Err\":\"\"}");
        }
    } else if (strcmp(path, "/VolumeDriver.Remove") == 0) {
        int i = find_volume(name);
        if (i >= 0) {
            volume_count--;
            memmove(volumes[i], volumes[i + 1], (size_t)(volume_count - i) * NAME_SIZE);
        }
        snprintf(reply, REPLY_SIZE, "{\"Err\":\"\"}");
    } else if (strcmp(path, "/VolumeDriver.Get") == 0) {
        if (find_volume(name) < 0)
            snprintf(reply, REPLY_SIZE, "{\"Err\":\"no such volume: %s\"}", name);
        else
            snprintf(reply, REPLY_SIZE,
                     "{\"Volume\":{\"Name\":\"%s\",\"Mountpoint\":\"/volumes/%s\","
                     "\"Status\":{\"greeting\":\"%s\"}},\"Err\":\"\"}",
                     name, name, greeting());
    } else if (strcmp(path, "/VolumeDriver.List") == 0) {
        size_t used = (size_t)snprintf(reply, REPLY_SIZE, "{\"Volumes\":[");
        for (int i = 0; i < volume_count && used < REPLY_SIZE - NAME_SIZE * 3; i++)
            used += (size_t)snprintf(reply + used, REPLY_SIZE - used,
                                     "%s{\"Name\":\"%s\",\"Mountpoint\":\"/volumes/%s\"}",
                                     i ? "," : "", volumes[i], volumes[i]);
        snprintf(reply + used, REPLY_SIZE - used, "],\"Err\":\"\"}");
    } else if (strcmp(path, "/VolumeDriver.Path") == 0 ||
               strcmp(path, "/VolumeDriver.Mount") == 0) {
        snprintf(reply, REPLY_SIZE, "{\"Mountpoint\":\"/volumes/%s\",\"Err\":\"\"}", name);
    } else if (strcmp(path, "/VolumeDriver.Unmount") == 0) {
        snprintf(reply, REPLY_SIZE, "{\"Err\":\"\"}");
    } else {
        *status = 404;
        snprintf(reply, REPLY_SIZE, "{\"Err\":\"unknown call %s\"}", path);
    }
}

static void write_all(int fd, const char *data, size_t size) {
    while (size > 0) {
        ssize_t n = write(fd, data, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        data += n;
        size -= (size_t)n;
    }
}

static void serve(int fd) {
    static char request[REQUEST_SIZE];
    static char reply[REPLY_SIZE];
    size_t used = 0;
    char *body = NULL;
    long length = 0;
    for (;;) {
        if (used >= sizeof request - 1)
            return;
        ssize_t n = read(fd, request + used, sizeof request - 1 - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        used += (size_t)n;
        request[used] = '\0';
        if (!body) {
            char *end = strstr(request, "\r\n\r\n");
            if (!end)
                continue;
            body = end + 4;
            char *header = strcasestr(request, "\r\nContent-Length:");
            if (header && header < end)
                length = strtol(header + 17, NULL, 10);
        }
        if ((long)(request + used - body) >= length)
            break;
    }
    char path[256] = "";
    sscanf(request, "%*s %255s", path);
    int status;
    handle(path, body, reply, &status);
    char head[256];
    int head_size = snprintf(head, sizeof head,
                             "HTTP/1.1 %d %s\r\n"
                             "Content-Type: application/vnd.docker.plugins.v1.2+json\r\n"
                             "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                             status, status == 200 ? "OK" : "Not Found", strlen(reply));
    write_all(fd, head, (size_t)head_size);
    write_all(fd, reply, strlen(reply));
}

/* As PID 1 of its namespace the plugin would ignore SIGTERM without a handler,
 * and every disable would wait for the daemon's kill timeout. */
static void on_term(int signal_number) {
    (void)signal_number;
    unlink(SOCKET_PATH);
    _exit(0);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    mkdir("/run", 0755);
    mkdir("/run/docker", 0755);
    mkdir(SOCKET_DIR, 0755);
    unlink(SOCKET_PATH);
    int server = socket(AF_UNIX, SOCK_STREAM, 0);
    if (server < 0) {
        perror("socket");
        return 1;
    }
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    strncpy(address.sun_path, SOCKET_PATH, sizeof address.sun_path - 1);
    if (bind(server, (struct sockaddr *)&address, sizeof address) < 0 || listen(server, 16) < 0) {
        perror(SOCKET_PATH);
        return 1;
    }
    fprintf(stderr, "aiodocker test volume plugin listening on %s\n", SOCKET_PATH);
    for (;;) {
        int client = accept(server, NULL, NULL);
        if (client < 0) {
            if (errno == EINTR)
                continue;
            perror("accept");
            return 1;
        }
        serve(client);
        close(client);
    }
}
