// powerloss-fs: a pass-through FUSE file system that can lose, on command, every write not yet
// fsynced, as a power cut would (the idea of Jepsen's LazyFS, reduced to what RaftKv's tests need).
//
//   powerloss-fs BACKING MOUNTPOINT [-o fsync_delay_ms=N] [-o trace]
//
// Writes go through to BACKING at once, so reads are plain pass-through; each one first saves the
// bytes and the file size it replaces in an undo record, kept in memory. fsync or fdatasync of a
// file (and any write through a handle opened O_SYNC or O_DSYNC) makes that file's records
// permanent. A power cut replays every remaining undo record in reverse, so each file holds exactly
// what it held at its last sync, and from then on every operation fails with EIO, as a dead disk.
// Metadata operations (create, rename, unlink, mkdir) are durable at once; only file contents and
// sizes are lost.
//
// The control file MOUNTPOINT/.powerloss (not listed) takes one command per write:
//   "cut"                 the power cut above; the write returns when BACKING holds the synced state
//   "fsync-delay-ms N"    every later fsync waits N ms before it takes effect (a slow disk)
// and reads back counters: unsynced records and bytes, syncs, and what the cut dropped.
#define FUSE_USE_VERSION 31
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <inttypes.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#define CONTROL_NAME ".powerloss"
#define CONTROL_PATH "/" CONTROL_NAME
#define CONTROL_FH ((uint64_t)-1)

// One saved piece of a file: restoring it sets the size back to old_size, then writes data at off.
struct undo_record {
    off_t off;
    size_t len;
    char *data;
    off_t old_size;
    uint64_t seq;
};

// The undo records of one file since its last sync, with a descriptor that outlives renames.
struct file_undo {
    dev_t dev;
    ino_t ino;
    int fd;
    struct undo_record *records;
    size_t count, capacity;
    struct file_undo *next;
};

static struct {
    int backing;                    // the backing directory, for *at() calls
    pthread_mutex_t lock;           // orders each write with its undo record
    struct file_undo *files;
    uint64_t seq;
    int dead;
    long fsync_delay_ms;
    int trace;                      // one line per write, fsync and cut on stderr
    uint64_t unsynced_records, unsynced_bytes, syncs, dropped_records, dropped_bytes;
} fs = { .lock = PTHREAD_MUTEX_INITIALIZER };

static const char *relative(const char *path) { return path[1] == '\0' ? "." : path + 1; }

static void trace(const char *what, const char *path, off_t off, size_t len) {
    if (!fs.trace) return;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    fprintf(stderr, "%ld.%06ld %s %s %jd %zu\n", (long)now.tv_sec, now.tv_nsec / 1000, what, path, (intmax_t)off, len);
}

static int is_control(const char *path) { return strcmp(path, CONTROL_PATH) == 0; }

static struct file_undo *undo_for(int fd) {
    struct stat st;
    if (fstat(fd, &st) != 0) return NULL;
    for (struct file_undo *f = fs.files; f; f = f->next)
        if (f->dev == st.st_dev && f->ino == st.st_ino) return f;
    struct file_undo *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->fd = dup(fd);
    if (f->fd < 0) { free(f); return NULL; }
    f->next = fs.files;
    fs.files = f;
    return f;
}

// Saves what [off, off+len) holds now, within the current size, before it is overwritten or cut.
static int save(int fd, off_t off, size_t len) {
    struct stat st;
    if (fstat(fd, &st) != 0) return -errno;
    struct file_undo *f = undo_for(fd);
    if (!f) return -ENOMEM;
    size_t saved = off < st.st_size ? (size_t)((off + (off_t)len < st.st_size ? off + (off_t)len : st.st_size) - off) : 0;
    char *data = NULL;
    if (saved > 0) {
        data = malloc(saved);
        if (!data) return -ENOMEM;
        ssize_t got = pread(fd, data, saved, off);
        if (got < 0) { free(data); return -errno; }
        saved = (size_t)got;
    }
    if (f->count == f->capacity) {
        size_t capacity = f->capacity ? 2 * f->capacity : 16;
        struct undo_record *grown = realloc(f->records, capacity * sizeof *grown);
        if (!grown) { free(data); return -ENOMEM; }
        f->records = grown;
        f->capacity = capacity;
    }
    f->records[f->count++] = (struct undo_record){ off, saved, data, st.st_size, ++fs.seq };
    fs.unsynced_records++;
    fs.unsynced_bytes += saved;
    return 0;
}

// Makes permanent every record of the file up to and including sequence number upto.
static void make_durable(int fd, uint64_t upto) {
    struct file_undo *f = undo_for(fd);
    if (!f) return;
    size_t kept = 0;
    for (size_t i = 0; i < f->count; i++) {
        struct undo_record *r = &f->records[i];
        if (r->seq <= upto) {
            fs.unsynced_records--;
            fs.unsynced_bytes -= r->len;
            free(r->data);
        } else {
            f->records[kept++] = *r;
        }
    }
    f->count = kept;
    fs.syncs++;
}

static void power_cut(void) {
    fs.dead = 1;
    for (struct file_undo *f = fs.files; f; f = f->next) {
        for (size_t i = f->count; i-- > 0;) {
            struct undo_record *r = &f->records[i];
            if (ftruncate(f->fd, r->old_size) != 0 || (r->len > 0 && pwrite(f->fd, r->data, r->len, r->off) != (ssize_t)r->len))
                fprintf(stderr, "powerloss-fs: restoring inode %ju failed: %s\n", (uintmax_t)f->ino, strerror(errno));
            fs.dropped_records++;
            fs.dropped_bytes += r->len;
            free(r->data);
        }
        f->count = 0;
        fsync(f->fd);
    }
    fs.unsynced_records = fs.unsynced_bytes = 0;
    fsync(fs.backing);
}

#define ALIVE() do { if (fs.dead) return -EIO; } while (0)

static void *pl_init(struct fuse_conn_info *conn, struct fuse_config *cfg) {
    // Every write reaches this process when it is made, not later from a kernel cache.
    conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
    cfg->use_ino = 1;
    cfg->direct_io = 0;
    cfg->kernel_cache = 0;
    return NULL;
}

static int pl_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
    // The control file answers after the cut too, to report what it dropped.
    if (is_control(path)) {
        memset(st, 0, sizeof *st);
        st->st_mode = S_IFREG | 0600;
        st->st_nlink = 1;
        return 0;
    }
    ALIVE();
    int r = fi && fi->fh != CONTROL_FH ? fstat((int)fi->fh, st) : fstatat(fs.backing, relative(path), st, AT_SYMLINK_NOFOLLOW);
    return r == 0 ? 0 : -errno;
}

static int pl_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t offset, struct fuse_file_info *fi, enum fuse_readdir_flags flags) {
    (void)offset; (void)fi; (void)flags;
    ALIVE();
    int fd = openat(fs.backing, relative(path), O_RDONLY | O_DIRECTORY);
    if (fd < 0) return -errno;
    DIR *dir = fdopendir(fd);
    if (!dir) { int e = errno; close(fd); return -e; }
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        struct stat st = { .st_ino = entry->d_ino, .st_mode = (mode_t)entry->d_type << 12 };
        if (fill(buf, entry->d_name, &st, 0, 0)) break;
    }
    closedir(dir);
    return 0;
}

static int pl_mkdir(const char *path, mode_t mode) { ALIVE(); return mkdirat(fs.backing, relative(path), mode) == 0 ? 0 : -errno; }

static int pl_unlink(const char *path) { ALIVE(); return unlinkat(fs.backing, relative(path), 0) == 0 ? 0 : -errno; }

static int pl_rmdir(const char *path) { ALIVE(); return unlinkat(fs.backing, relative(path), AT_REMOVEDIR) == 0 ? 0 : -errno; }

static int pl_rename(const char *from, const char *to, unsigned int flags) {
    ALIVE();
    return renameat2(fs.backing, relative(from), fs.backing, relative(to), flags) == 0 ? 0 : -errno;
}

static int pl_chmod(const char *path, mode_t mode, struct fuse_file_info *fi) {
    ALIVE();
    int r = fi ? fchmod((int)fi->fh, mode) : fchmodat(fs.backing, relative(path), mode, 0);
    return r == 0 ? 0 : -errno;
}

static int pl_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi) {
    ALIVE();
    int r = fi ? futimens((int)fi->fh, tv) : utimensat(fs.backing, relative(path), tv, AT_SYMLINK_NOFOLLOW);
    return r == 0 ? 0 : -errno;
}

static int truncate_fd(int fd, off_t size) {
    pthread_mutex_lock(&fs.lock);
    struct stat st;
    int r = fstat(fd, &st) != 0 ? -errno : 0;
    if (r == 0 && size != st.st_size) r = save(fd, size, size < st.st_size ? (size_t)(st.st_size - size) : 0);
    if (r == 0 && ftruncate(fd, size) != 0) r = -errno;
    pthread_mutex_unlock(&fs.lock);
    return r;
}

static int pl_truncate(const char *path, off_t size, struct fuse_file_info *fi) {
    if (is_control(path)) return 0;
    ALIVE();
    if (fi) return truncate_fd((int)fi->fh, size);
    int fd = openat(fs.backing, relative(path), O_RDWR);
    if (fd < 0) return -errno;
    int r = truncate_fd(fd, size);
    close(fd);
    return r;
}

// The backing file is opened without the flags this layer implements itself: truncation is recorded,
// sync flags make writes durable here (not on the backing disk), and offsets come from the kernel.
// A write-only file is opened for reading too, to save what each write replaces.
static int backing_flags(int flags) {
    flags &= ~(O_TRUNC | O_SYNC | O_DSYNC | O_DIRECT | O_APPEND);
    return (flags & O_ACCMODE) == O_WRONLY ? (flags & ~O_ACCMODE) | O_RDWR : flags;
}

static int pl_open(const char *path, struct fuse_file_info *fi) {
    if (is_control(path)) {
        fi->fh = CONTROL_FH;
        fi->direct_io = 1;
        return 0;
    }
    ALIVE();
    int fd = openat(fs.backing, relative(path), backing_flags(fi->flags));
    if (fd < 0) return -errno;
    if ((fi->flags & O_TRUNC) && (fi->flags & O_ACCMODE) != O_RDONLY) {
        int r = truncate_fd(fd, 0);
        if (r != 0) { close(fd); return r; }
    }
    fi->fh = (uint64_t)fd;
    return 0;
}

static int pl_create(const char *path, mode_t mode, struct fuse_file_info *fi) {
    ALIVE();
    int fd = openat(fs.backing, relative(path), backing_flags(fi->flags) | O_CREAT, mode);
    if (fd < 0) return -errno;
    if (fi->flags & O_TRUNC) {
        int r = truncate_fd(fd, 0);
        if (r != 0) { close(fd); return r; }
    }
    fi->fh = (uint64_t)fd;
    return 0;
}

static int control_read(char *buf, size_t size, off_t off) {
    char text[512];
    pthread_mutex_lock(&fs.lock);
    int n = snprintf(text, sizeof text,
        "unsynced-records %" PRIu64 "\nunsynced-bytes %" PRIu64 "\nsyncs %" PRIu64 "\ndropped-records %" PRIu64 "\ndropped-bytes %" PRIu64 "\nfsync-delay-ms %ld\ndead %d\n",
        fs.unsynced_records, fs.unsynced_bytes, fs.syncs, fs.dropped_records, fs.dropped_bytes, fs.fsync_delay_ms, fs.dead);
    pthread_mutex_unlock(&fs.lock);
    if (off >= n) return 0;
    size_t count = (size_t)(n - off) < size ? (size_t)(n - off) : size;
    memcpy(buf, text + off, count);
    return (int)count;
}

static int control_write(const char *buf, size_t size) {
    char command[64];
    size_t n = size < sizeof command - 1 ? size : sizeof command - 1;
    memcpy(command, buf, n);
    command[n] = '\0';
    long value;
    pthread_mutex_lock(&fs.lock);
    int r = (int)size;
    if (strncmp(command, "cut", 3) == 0) { trace("cut", "/", 0, 0); power_cut(); }
    else if (sscanf(command, "fsync-delay-ms %ld", &value) == 1 && value >= 0) fs.fsync_delay_ms = value;
    else r = -EINVAL;
    pthread_mutex_unlock(&fs.lock);
    return r;
}

static int pl_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
    (void)path;
    if (fi->fh == CONTROL_FH) return control_read(buf, size, off);
    ALIVE();
    ssize_t got = pread((int)fi->fh, buf, size, off);
    return got < 0 ? -errno : (int)got;
}

static int pl_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
    if (fi->fh == CONTROL_FH) return control_write(buf, size);
    ALIVE();
    int fd = (int)fi->fh;
    trace("write", path, off, size);
    pthread_mutex_lock(&fs.lock);
    int r = fs.dead ? -EIO : save(fd, off, size);
    if (r == 0) {
        ssize_t put = pwrite(fd, buf, size, off);
        r = put < 0 ? -errno : (int)put;
        if (put >= 0 && (fi->flags & (O_SYNC | O_DSYNC))) make_durable(fd, fs.seq);
    }
    pthread_mutex_unlock(&fs.lock);
    return r;
}

static int pl_fsync(const char *path, int datasync, struct fuse_file_info *fi) {
    (void)datasync;
    if (fi->fh == CONTROL_FH) return 0;
    ALIVE();
    trace("fsync-begin", path, 0, 0);
    // Only what was written before the call becomes durable, however long the "disk" takes.
    pthread_mutex_lock(&fs.lock);
    uint64_t upto = fs.seq;
    long delay = fs.fsync_delay_ms;
    pthread_mutex_unlock(&fs.lock);
    if (delay > 0) {
        struct timespec pause = { delay / 1000, (delay % 1000) * 1000000L };
        nanosleep(&pause, NULL);
    }
    pthread_mutex_lock(&fs.lock);
    int r = fs.dead ? -EIO : 0;
    if (r == 0) make_durable((int)fi->fh, upto);
    pthread_mutex_unlock(&fs.lock);
    trace(r == 0 ? "fsync-end" : "fsync-failed", path, 0, 0);
    return r;
}

static int pl_fallocate(const char *path, int mode, off_t off, off_t len, struct fuse_file_info *fi) {
    (void)path;
    ALIVE();
    if (mode != 0) return -EOPNOTSUPP;
    int fd = (int)fi->fh;
    pthread_mutex_lock(&fs.lock);
    int r = fs.dead ? -EIO : save(fd, off, 0);
    if (r == 0 && (r = posix_fallocate(fd, off, len)) != 0) r = -r;
    pthread_mutex_unlock(&fs.lock);
    return r;
}

static int pl_release(const char *path, struct fuse_file_info *fi) {
    (void)path;
    if (fi->fh != CONTROL_FH) close((int)fi->fh);
    return 0;
}

static int pl_statfs(const char *path, struct statvfs *st) {
    (void)path;
    ALIVE();
    return fstatvfs(fs.backing, st) == 0 ? 0 : -errno;
}

static int pl_flush(const char *path, struct fuse_file_info *fi) { (void)path; return fs.dead && fi->fh != CONTROL_FH ? -EIO : 0; }

static const struct fuse_operations operations = {
    .init = pl_init,
    .getattr = pl_getattr,
    .readdir = pl_readdir,
    .mkdir = pl_mkdir,
    .unlink = pl_unlink,
    .rmdir = pl_rmdir,
    .rename = pl_rename,
    .chmod = pl_chmod,
    .utimens = pl_utimens,
    .truncate = pl_truncate,
    .open = pl_open,
    .create = pl_create,
    .read = pl_read,
    .write = pl_write,
    .fsync = pl_fsync,
    .fallocate = pl_fallocate,
    .release = pl_release,
    .statfs = pl_statfs,
    .flush = pl_flush,
};

struct options { long fsync_delay_ms; int trace; };

static const struct fuse_opt option_spec[] = {
    { "fsync_delay_ms=%ld", offsetof(struct options, fsync_delay_ms), 0 },
    { "trace", offsetof(struct options, trace), 1 },
    FUSE_OPT_END,
};

int main(int argc, char *argv[]) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s BACKING MOUNTPOINT [-o fsync_delay_ms=N] [-o trace] [fuse options]\n", argv[0]);
        return 64;
    }
    fs.backing = open(argv[1], O_RDONLY | O_DIRECTORY);
    if (fs.backing < 0) {
        fprintf(stderr, "powerloss-fs: cannot open %s: %s\n", argv[1], strerror(errno));
        return 66;
    }
    // fuse_main takes the mount point and options; the backing directory is ours.
    argv[1] = argv[0];
    struct fuse_args args = FUSE_ARGS_INIT(argc - 1, argv + 1);
    struct options options = { 0 };
    if (fuse_opt_parse(&args, &options, option_spec, NULL) != 0) return 64;
    fs.fsync_delay_ms = options.fsync_delay_ms;
    fs.trace = options.trace;
    int r = fuse_main(args.argc, args.argv, &operations, NULL);
    fuse_opt_free_args(&args);
    return r;
}
