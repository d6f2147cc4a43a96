/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The vhost bus: the device side of virtio devices whose driver side runs
 * on another system, reached across a PCIe endpoint link, an NTB or shared
 * memory.
 *
 * A *transport* (pci-epf-vhost, the NTB and platform transports) creates a
 * struct vhost_device for each virtio device it serves and implements
 * struct vhost_transport_ops: the registers the driver side sees (features,
 * status, config space), its virtqueues, its interrupts.  A *client*
 * (vhost rpmsg, vhost net) is a struct vhost_driver that matches devices by
 * virtio (device, vendor) id, the way virtio drivers do, and sees one API
 * whatever the transport.
 *
 * The core enforces the virtio device model so that clients stay small:
 * the driver side's accepted features must be a subset of the offered
 * ones (and pass the client's check) before FEATURES_OK is granted, rings
 * are only reached after DRIVER_OK, a reset stops the client and tears
 * the queues down before status reads back 0, and an unrecoverable error
 * sets DEVICE_NEEDS_RESET.
 */
#ifndef _LINUX_VHOST_BUS_H
#define _LINUX_VHOST_BUS_H

#include <linux/device.h>
#include <linux/mod_devicetable.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/vringh.h>
#include <linux/workqueue.h>

struct config_item;
struct configfs_attribute;
struct vhost_device;
struct vhost_transport;
struct vhost_vq_set;

/**
 * struct vhost_bind - what userspace asked for when it bound a client
 * @client: name of the only client that may bind to the device
 * @settings: the client's settings for this device (see
 *	&vhost_driver.settings_size), copied by vhost_device_init()
 * @settings_size: size of @settings in bytes, 0 without settings
 */
struct vhost_bind {
	const char *client;
	const void *settings;
	size_t settings_size;
};

/**
 * struct vhost_vq_config - a queue as the driver side set it up
 * @num: queue size (entries)
 * @desc: bus address of the descriptor table on the driver side
 * @avail: bus address of the available ring
 * @used: bus address of the used ring
 *
 * Untrusted: vringh checks the size and that each part lies in a window.
 */
struct vhost_vq_config {
	unsigned int num;
	u64 desc;
	u64 avail;
	u64 used;
};

/**
 * struct vhost_transport_ops - what a transport implements for its devices
 * @get_driver_features: read the feature bits the driver side accepted.
 * @set_device_features: publish the feature bits the device offers; called
 *	before the driver side can read them and whenever they change.
 * @get_status: read the status the driver side last wrote.
 * @set_status: publish the status the driver side reads back: the core
 *	clears FEATURES_OK to refuse features, writes 0 to complete a reset
 *	and sets DEVICE_NEEDS_RESET.
 * @set_config: publish @len bytes of device config space at @offset, and
 *	the new generation, to the driver side.
 * @notify_config: tell the driver side that config space changed (virtio's
 *	configuration change notification).
 * @get_vq: read the setup of queue @index as the driver side wrote it;
 *	return -EINVAL if the queue is not enabled.  Needed for queues.
 * @map_ring: map driver-side bus addresses [@addr, @addr + @len) of a ring
 *	into a window kept mapped while the queues exist: store the local
 *	address and how many bytes from @addr are contiguous there; return
 *	-EFAULT if @addr cannot be mapped.  Called when queues are created,
 *	for the three parts of each ring only.
 * @read: copy @len bytes at driver-side bus address @addr into @dst: an
 *	indirect descriptor table or a buffer the device reads.  Return 0, or
 *	-EFAULT if the transport cannot reach @addr.  May sleep (to map a
 *	window or wait for a DMA engine); called without the lock.
 * @write: copy @len bytes from @src to driver-side bus address @addr: a
 *	buffer the device writes.  As @read.
 * @notify_vq: interrupt the driver side for used buffers of queue @index.
 *	Called in any context, without the lock: a transport whose interrupt
 *	needs to sleep defers it.
 * @notify_vq_cansleep: as @notify_vq, in process context, so that the
 *	interrupt may be raised before returning rather than deferred.
 *	Optional; without it, @notify_vq is called.
 *
 * Unless said otherwise, ops are called in process context with the
 * device's lock held, and may sleep.  Values read from the driver side
 * are untrusted: the core checks them.
 */
struct vhost_transport_ops {
	u64 (*get_driver_features)(struct vhost_device *vdev);
	void (*set_device_features)(struct vhost_device *vdev, u64 features);
	u8 (*get_status)(struct vhost_device *vdev);
	void (*set_status)(struct vhost_device *vdev, u8 status);
	void (*set_config)(struct vhost_device *vdev, unsigned int offset,
			   const void *buf, unsigned int len, u32 generation);
	void (*notify_config)(struct vhost_device *vdev);
	int (*get_vq)(struct vhost_device *vdev, unsigned int index,
		      struct vhost_vq_config *cfg);
	int (*map_ring)(struct vhost_device *vdev, u64 addr, u64 len,
			void __iomem **va, u64 *mapped_len);
	int (*read)(struct vhost_device *vdev, u64 addr, void *dst,
		    size_t len);
	int (*write)(struct vhost_device *vdev, u64 addr, const void *src,
		     size_t len);
	void (*notify_vq)(struct vhost_device *vdev, unsigned int index);
	void (*notify_vq_cansleep)(struct vhost_device *vdev,
				   unsigned int index);
};

/**
 * struct vhost_device - the device side of one virtio device
 * @dev: the device on the vhost bus
 * @index: unique index, the N of the device name "vhostN"
 * @id: virtio device and vendor id
 * @driver_override: the only client that may bind, or NULL for any whose
 *	id table matches
 * @ops: the transport's ops
 * @release: the transport's destructor
 * @status_lock: serialises status transitions and the client callbacks
 *	they make (validate_features, start, stop, config_changed)
 * @lock: protects the fields below; held around every transport op
 * @client: the bound client once its probe succeeded, NULL otherwise
 * @features: feature bits the device offers
 * @negotiated: feature bits granted with FEATURES_OK, 0 before
 * @status: device status as the core last accepted it
 * @config: cached device config space, read by clients without touching
 *	the link
 * @config_len: size of @config in bytes
 * @generation: config generation, bumped on every config change
 * @started: the client's start() succeeded and stop() is owed
 * @failed: DEVICE_NEEDS_RESET is set; only a reset clears it
 * @fail_reason: why vhost_device_fail() was called, for the log
 * @fail_work: applies vhost_device_fail() in process context
 * @vq_set: the queues between DRIVER_OK and reset, RCU-protected
 * @vq_pending: the queues created in the client's start(), published to
 *	kick reports only once it succeeded; under @status_lock
 * @settings: the client's settings from the binding (read-only), or NULL
 *
 * @client is written under @status_lock; fields from @features down are
 * protected by @lock.
 */
struct vhost_device {
	struct device dev;
	int index;
	struct vhost_device_id id;
	const char *driver_override;
	const struct vhost_transport_ops *ops;
	void (*release)(struct vhost_device *vdev);
	struct mutex status_lock;	/* status transitions, client callbacks */
	struct mutex lock;		/* the fields below, transport ops */
	struct vhost_driver *client;
	u64 features;
	u64 negotiated;
	u8 status;
	void *config;
	unsigned int config_len;
	u32 generation;
	bool started;
	bool failed;
	const char *fail_reason;
	struct work_struct fail_work;
	struct vhost_vq_set __rcu *vq_set;
	struct vhost_vq_set *vq_pending;
	void *settings;
};

#define to_vhost_device(d)	container_of_const(d, struct vhost_device, dev)

/**
 * struct vhost_config_field - a field of device config space
 * @offset: its first byte
 * @len: its length in bytes
 */
struct vhost_config_field {
	unsigned int offset;
	unsigned int len;
};

/**
 * struct vhost_driver - a client of the vhost bus
 * @driver: the driver on the vhost bus
 * @id_table: devices served, ended by an entry with device 0
 * @probe: a device matched; offer features (vhost_set_features()) and
 *	publish config (vhost_set_config()) here.
 * @remove: the device goes away; the core has called @stop if owed.
 * @validate_features: optional; the driver side asks for @features (a
 *	subset of the offered ones): return 0 to grant them or an errno to
 *	refuse FEATURES_OK.
 * @start: the driver side set DRIVER_OK; set up queues and start serving.
 *	A failure sets DEVICE_NEEDS_RESET.
 * @stop: the driver side reset the device, or it failed; stop using the
 *	queues.  The core deletes them after @stop returns.
 * @config_writable: optional; the fields of config space the driver side
 *	may write, ended by an entry of length 0.  Without it, config space
 *	is read-only for the driver side.
 * @config_written: optional; the driver side wrote @len bytes at @offset,
 *	inside one of the @config_writable fields; the new bytes are in the
 *	core's copy (vhost_get_config()).
 * @settings_size: optional; size of the client's per-device settings.
 *	With it, each client directory in configfs takes subdirectories
 *	(instances) that hold settings and can be bound like the client
 *	directory itself; the device gets a copy (vhost_device_settings()).
 * @settings_attrs: the configfs attributes of an instance; their show and
 *	store methods reach the settings with vhost_settings_get().
 * @settings_init: sets the defaults of new settings, those of an instance
 *	when it is made and those of a binding of the client directory.
 *
 * All callbacks are called in process context.  validate_features,
 * start, stop and config_written are serialised with status changes (the
 * device's status_lock is held): they may call vhost_set_config() and
 * vhost_get_config(), but not vhost_device_status_changed().
 */
struct vhost_driver {
	struct device_driver driver;
	const struct vhost_device_id *id_table;
	int (*probe)(struct vhost_device *vdev);
	void (*remove)(struct vhost_device *vdev);
	int (*validate_features)(struct vhost_device *vdev, u64 features);
	int (*start)(struct vhost_device *vdev);
	void (*stop)(struct vhost_device *vdev);
	const struct vhost_config_field *config_writable;
	void (*config_written)(struct vhost_device *vdev, unsigned int offset,
			       unsigned int len);
	size_t settings_size;
	struct configfs_attribute **settings_attrs;
	void (*settings_init)(void *settings);
};

#define to_vhost_driver(d)	container_of_const(d, struct vhost_driver, driver)

int __vhost_driver_register(struct vhost_driver *drv, struct module *owner);
void vhost_driver_unregister(struct vhost_driver *drv);

/**
 * vhost_driver_register() - register a vhost client
 * @drv: the client
 *
 * Return: 0 or a negative errno.
 */
#define vhost_driver_register(drv) \
	__vhost_driver_register(drv, THIS_MODULE)

/**
 * module_vhost_driver() - register a vhost client for the module's lifetime
 * @__vhost_driver: the struct vhost_driver
 */
#define module_vhost_driver(__vhost_driver) \
	module_driver(__vhost_driver, vhost_driver_register, \
		      vhost_driver_unregister)

int vhost_device_init(struct vhost_device *vdev, struct device *parent,
		      const struct vhost_device_id *id,
		      const struct vhost_bind *bind,
		      const struct vhost_transport_ops *ops,
		      unsigned int config_len,
		      void (*release)(struct vhost_device *vdev));
int vhost_device_add(struct vhost_device *vdev);
void vhost_device_unregister(struct vhost_device *vdev);
void vhost_device_put(struct vhost_device *vdev);

void vhost_device_status_changed(struct vhost_device *vdev);
int vhost_device_config_write(struct vhost_device *vdev, unsigned int offset,
			      const void *buf, unsigned int len);
void vhost_device_fail(struct vhost_device *vdev, const char *reason);

void vhost_set_features(struct vhost_device *vdev, u64 features);
bool vhost_device_has_feature(const struct vhost_device *vdev, unsigned int bit);
int vhost_set_config(struct vhost_device *vdev, unsigned int offset,
		     const void *buf, unsigned int len);
int vhost_get_config(struct vhost_device *vdev, unsigned int offset,
		     void *buf, unsigned int len);
u8 vhost_get_status(struct vhost_device *vdev);

void *vhost_settings_get(struct config_item *item, bool write);
void vhost_settings_put(struct config_item *item);

/**
 * vhost_device_settings() - the client's settings for a device
 * @vdev: the device
 *
 * Return: the copy made when the client was bound (an instance's
 * settings, or the defaults), or NULL for a client without settings or a
 * device not made through configfs.
 */
static inline const void *vhost_device_settings(const struct vhost_device *vdev)
{
	return vdev->settings;
}

/**
 * vhost_get_drvdata() - the client's private data
 * @vdev: the device
 *
 * Return: what the client stored with vhost_set_drvdata().
 */
static inline void *vhost_get_drvdata(const struct vhost_device *vdev)
{
	return dev_get_drvdata(&vdev->dev);
}

/**
 * vhost_set_drvdata() - store the client's private data
 * @vdev: the device
 * @data: the data
 */
static inline void vhost_set_drvdata(struct vhost_device *vdev, void *data)
{
	dev_set_drvdata(&vdev->dev, data);
}

struct vhost_transport_group;

/**
 * struct vhost_transport - a place where vhost devices can be created
 * @name: unique name, the directory under /sys/kernel/config/vhost/transports
 * @add: create and add a vhost device with @id for the binding @bind
 *	(pass both to vhost_device_init()); return it or an ERR_PTR
 *	(-EBUSY if the transport cannot take one now, e.g. the driver side
 *	is active).  Called in process context; may sleep.
 * @del: unregister a device returned by @add.
 * @group: the configfs directory, private to the core
 *
 * A transport device (a PCI endpoint function, an NTB peer, a platform
 * device) registers one of these to let userspace bind clients to it by
 * symlinking a client id into its configfs directory.
 */
struct vhost_transport {
	const char *name;
	struct vhost_device *(*add)(struct vhost_transport *t,
				    const struct vhost_device_id *id,
				    const struct vhost_bind *bind);
	void (*del)(struct vhost_transport *t, struct vhost_device *vdev);
	struct vhost_transport_group *group;
};

int vhost_transport_register(struct vhost_transport *t);
void vhost_transport_unregister(struct vhost_transport *t);

struct vhost_vq;
typedef void vhost_vq_callback_t(struct vhost_vq *vq);

/**
 * struct vhost_vq - a virtqueue seen from the device side
 * @vdev: the device
 * @index: the queue index
 * @name: for the log
 * @callback: called when the driver side kicks the queue
 * @priv: the client's data
 * @vrh: the ring, private to the core
 */
struct vhost_vq {
	struct vhost_device *vdev;
	unsigned int index;
	const char *name;
	vhost_vq_callback_t *callback;
	void *priv;
	struct vringh vrh;
};

/**
 * struct vhost_vq_set - the queues of a device, private to the core
 * @nvqs: number of queues
 * @vqs: the queues
 */
struct vhost_vq_set {
	unsigned int nvqs;
	struct vhost_vq vqs[] __counted_by(nvqs);
};

#define VHOST_BUF_SEGS	8

/**
 * struct vhost_buf - one buffer (a descriptor chain) taken from a queue
 * @in: what the device reads: the driver side's out-buffers
 * @out: what the device writes: the driver side's in-buffers
 * @in_vec: inline segments of @in; longer chains allocate
 * @out_vec: inline segments of @out
 * @vq: the queue the chain was taken from, private to the core
 * @head: the chain's head, private to the core
 * @written: bytes pushed into @out, reported as the used length
 *
 * The segments hold driver-side bus addresses: bytes are copied by the
 * transport when they are pulled or pushed, so a buffer may lie anywhere
 * in the driver side's memory.
 */
struct vhost_buf {
	struct vringh_mmiov in;
	struct vringh_mmiov out;
	struct vringh_mmio_vec in_vec[VHOST_BUF_SEGS];
	struct vringh_mmio_vec out_vec[VHOST_BUF_SEGS];
	struct vhost_vq *vq;
	u16 head;
	u32 written;
};

int vhost_create_vqs(struct vhost_device *vdev, unsigned int nvqs,
		     vhost_vq_callback_t *callbacks[],
		     const char *const names[], struct vhost_vq *vqs[]);
void vhost_vq_kicked(struct vhost_device *vdev, unsigned int index);
void vhost_buf_init(struct vhost_buf *buf);
void vhost_buf_release(struct vhost_buf *buf);
int vhost_vq_get_buf(struct vhost_vq *vq, struct vhost_buf *buf);
void vhost_vq_unget_buf(struct vhost_vq *vq, struct vhost_buf *buf);
ssize_t vhost_buf_pull(struct vhost_buf *buf, void *dst, size_t len);
ssize_t vhost_buf_push(struct vhost_buf *buf, const void *src, size_t len);
size_t vhost_buf_readable(const struct vhost_buf *buf);
size_t vhost_buf_writable(const struct vhost_buf *buf);
int vhost_vq_put_buf(struct vhost_vq *vq, struct vhost_buf *buf);

/* The most buffers vhost_vq_put_bufs() makes used at once. */
#define VHOST_PUT_BUFS_MAX	64

int vhost_vq_put_bufs(struct vhost_vq *vq, struct vhost_buf *bufs,
		      unsigned int n);
bool vhost_vq_kick(struct vhost_vq *vq);
bool vhost_vq_kick_cansleep(struct vhost_vq *vq);
bool vhost_vq_enable_cb(struct vhost_vq *vq);
void vhost_vq_disable_cb(struct vhost_vq *vq);

#endif /* _LINUX_VHOST_BUS_H */
