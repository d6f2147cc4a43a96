// SPDX-License-Identifier: GPL-2.0-only
/*
 * configfs interface of vhost rpmsg: channels created from userspace.
 *
 *   /sys/kernel/config/rpmsg/
 *     <device>/              a vhost rpmsg device, by the name of the
 *                            device carrying its link (pci_epf_vhost.0)
 *       <channel>/           named as you like
 *         name               the channel's name, matched by rpmsg drivers
 *         src                local address, or "any" (not announced)
 *         dst                the other side's address, or "any"
 *         enable             1: the channel exists whenever the device runs
 *         live               1: it exists now
 *
 * A directory may be made before its device exists, and it outlives it:
 * its enabled channels are created each time the device comes online
 * (the other side set DRIVER_OK) and removed when it goes offline (a
 * reset, an unbind), so a configuration survives the other side's reboot.
 * A channel with a local address is announced to the other side once a
 * driver binds it (rpmsg_char binds "rpmsg-raw").  name, src and dst are
 * fixed while enabled; an enabled channel cannot be removed (EBUSY).
 *
 * Locking: vrpmsg_cfs_lock protects the list of online devices and every
 * channel's fields.  It is taken before the bus's own locks (see
 * vhost_rpmsg_bus.c).
 */

#include <linux/configfs.h>
#include <linux/ctype.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/rpmsg.h>
#include <linux/rpmsg/ns.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "vhost_rpmsg.h"

struct vrpmsg_cfs_dev {
	struct config_group group;
	struct list_head node;
	struct list_head channels;
};

struct vrpmsg_cfs_chan {
	struct config_item item;
	struct list_head node;
	struct vrpmsg_cfs_dev *dev;
	char name[RPMSG_NAME_SIZE];
	u32 src;
	u32 dst;
	bool enabled;
	struct vrpmsg *vrp;		/* where it is live, or NULL */
	struct rpmsg_device *rpdev;	/* a reference, while live */
};

static DEFINE_MUTEX(vrpmsg_cfs_lock);
static LIST_HEAD(vrpmsg_cfs_online);
static LIST_HEAD(vrpmsg_cfs_devs);
static struct configfs_subsystem vrpmsg_cfs_subsys;

static inline struct vrpmsg_cfs_chan *to_chan(struct config_item *item)
{
	return container_of(item, struct vrpmsg_cfs_chan, item);
}

static inline struct vrpmsg_cfs_dev *to_cdev(struct config_group *group)
{
	return container_of(group, struct vrpmsg_cfs_dev, group);
}

static const char *chan_dev_name(const struct vrpmsg_cfs_chan *chan)
{
	return config_item_name(&chan->dev->group.cg_item);
}

/* Create the channel on @vrp; vrpmsg_cfs_lock held. */
static int chan_go_live(struct vrpmsg_cfs_chan *chan, struct vrpmsg *vrp)
{
	struct rpmsg_channel_info chinfo = {
		.src = chan->src,
		.dst = chan->dst,
	};
	struct rpmsg_device *rpdev;

	lockdep_assert_held(&vrpmsg_cfs_lock);
	strscpy(chinfo.name, chan->name, sizeof(chinfo.name));
	rpdev = vrpmsg_add_channel(vrp, &chinfo, VRPMSG_CONFIGFS);
	if (IS_ERR(rpdev)) {
		pr_err("rpmsg configfs: channel %s/%s not created: %pe\n",
		       chan_dev_name(chan), config_item_name(&chan->item), rpdev);
		return PTR_ERR(rpdev);
	}
	get_device(&rpdev->dev);
	chan->rpdev = rpdev;
	chan->vrp = vrp;
	return 0;
}

static void chan_go_dead(struct vrpmsg_cfs_chan *chan)
{
	lockdep_assert_held(&vrpmsg_cfs_lock);
	if (!chan->rpdev)
		return;
	device_unregister(&chan->rpdev->dev);
	put_device(&chan->rpdev->dev);
	chan->rpdev = NULL;
	chan->vrp = NULL;
}

static struct vrpmsg *find_online(const char *name)
{
	struct vrpmsg_cfs_link *link;

	list_for_each_entry(link, &vrpmsg_cfs_online, node)
		if (!strcmp(vrpmsg_name(link->vrp), name))
			return link->vrp;
	return NULL;
}

/**
 * vrpmsg_cfs_attach() - a device came online: create its channels
 * @vrp: the device
 * @link: its bookkeeping, until vrpmsg_cfs_detach()
 */
void vrpmsg_cfs_attach(struct vrpmsg *vrp, struct vrpmsg_cfs_link *link)
{
	struct vrpmsg_cfs_chan *chan;
	struct vrpmsg_cfs_dev *cdev;
	const char *name = vrpmsg_name(vrp);

	mutex_lock(&vrpmsg_cfs_lock);
	link->vrp = vrp;
	list_add_tail(&link->node, &vrpmsg_cfs_online);
	if (find_online(name) != vrp) {
		pr_warn("rpmsg configfs: two devices named %s: channels go to the first\n",
			name);
		goto out;
	}
	list_for_each_entry(cdev, &vrpmsg_cfs_devs, node) {
		if (strcmp(config_item_name(&cdev->group.cg_item), name))
			continue;
		list_for_each_entry(chan, &cdev->channels, node)
			if (chan->enabled && !chan->rpdev)
				chan_go_live(chan, vrp);
	}
out:
	mutex_unlock(&vrpmsg_cfs_lock);
}

/**
 * vrpmsg_cfs_detach() - a device goes offline: remove its channels
 * @link: what vrpmsg_cfs_attach() was given
 */
void vrpmsg_cfs_detach(struct vrpmsg_cfs_link *link)
{
	struct vrpmsg_cfs_chan *chan;
	struct vrpmsg_cfs_dev *cdev;

	mutex_lock(&vrpmsg_cfs_lock);
	list_del(&link->node);
	list_for_each_entry(cdev, &vrpmsg_cfs_devs, node)
		list_for_each_entry(chan, &cdev->channels, node)
			if (chan->vrp == link->vrp)
				chan_go_dead(chan);
	mutex_unlock(&vrpmsg_cfs_lock);
}

/* ---- channel attributes ---- */

static ssize_t chan_name_show(struct config_item *item, char *page)
{
	struct vrpmsg_cfs_chan *chan = to_chan(item);
	ssize_t ret;

	mutex_lock(&vrpmsg_cfs_lock);
	ret = sysfs_emit(page, "%s\n", chan->name);
	mutex_unlock(&vrpmsg_cfs_lock);
	return ret;
}

static ssize_t chan_name_store(struct config_item *item, const char *page,
			       size_t len)
{
	struct vrpmsg_cfs_chan *chan = to_chan(item);
	size_t n = strcspn(page, "\n");
	size_t i;
	ssize_t ret = len;

	if (!n || n >= RPMSG_NAME_SIZE) {
		pr_err("rpmsg configfs: a channel name has 1 to %d characters\n",
		       RPMSG_NAME_SIZE - 1);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		if (!isgraph(page[i])) {
			pr_err("rpmsg configfs: a channel name has printable characters and no spaces\n");
			return -EINVAL;
		}
	}
	mutex_lock(&vrpmsg_cfs_lock);
	if (chan->enabled) {
		pr_err("rpmsg configfs: %s is enabled: disable it to rename it\n",
		       config_item_name(item));
		ret = -EBUSY;
	} else {
		memset(chan->name, 0, sizeof(chan->name));
		memcpy(chan->name, page, n);
	}
	mutex_unlock(&vrpmsg_cfs_lock);
	return ret;
}

static ssize_t chan_addr_show(u32 *addr, char *page)
{
	ssize_t ret;

	mutex_lock(&vrpmsg_cfs_lock);
	if (*addr == RPMSG_ADDR_ANY)
		ret = sysfs_emit(page, "any\n");
	else
		ret = sysfs_emit(page, "%u\n", *addr);
	mutex_unlock(&vrpmsg_cfs_lock);
	return ret;
}

static ssize_t chan_addr_store(struct vrpmsg_cfs_chan *chan, u32 *addr,
			       const char *what, const char *page, size_t len)
{
	ssize_t ret = len;
	u32 val;

	if (sysfs_streq(page, "any")) {
		val = RPMSG_ADDR_ANY;
	} else if (kstrtou32(page, 0, &val) || val == RPMSG_ADDR_ANY) {
		pr_err("rpmsg configfs: %s is an address below 0x%x, or \"any\"\n",
		       what, RPMSG_ADDR_ANY);
		return -EINVAL;
	}
	if (val == RPMSG_NS_ADDR) {
		pr_err("rpmsg configfs: address %u is the name service's\n",
		       RPMSG_NS_ADDR);
		return -EINVAL;
	}
	mutex_lock(&vrpmsg_cfs_lock);
	if (chan->enabled) {
		pr_err("rpmsg configfs: %s is enabled: disable it to change %s\n",
		       config_item_name(&chan->item), what);
		ret = -EBUSY;
	} else {
		*addr = val;
	}
	mutex_unlock(&vrpmsg_cfs_lock);
	return ret;
}

static ssize_t chan_src_show(struct config_item *item, char *page)
{
	return chan_addr_show(&to_chan(item)->src, page);
}

static ssize_t chan_src_store(struct config_item *item, const char *page,
			      size_t len)
{
	struct vrpmsg_cfs_chan *chan = to_chan(item);

	return chan_addr_store(chan, &chan->src, "src", page, len);
}

static ssize_t chan_dst_show(struct config_item *item, char *page)
{
	return chan_addr_show(&to_chan(item)->dst, page);
}

static ssize_t chan_dst_store(struct config_item *item, const char *page,
			      size_t len)
{
	struct vrpmsg_cfs_chan *chan = to_chan(item);

	return chan_addr_store(chan, &chan->dst, "dst", page, len);
}

static ssize_t chan_enable_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%d\n", READ_ONCE(to_chan(item)->enabled));
}

static int chan_enable(struct vrpmsg_cfs_chan *chan)
{
	struct vrpmsg *vrp;
	int ret;

	if (!chan->name[0]) {
		pr_err("rpmsg configfs: %s has no name yet\n",
		       config_item_name(&chan->item));
		return -EINVAL;
	}
	/* An enabled channel cannot be removed (rmdir gets EBUSY). */
	ret = configfs_depend_item_unlocked(&vrpmsg_cfs_subsys, &chan->item);
	if (ret)
		return ret;
	vrp = find_online(chan_dev_name(chan));
	if (vrp) {
		ret = chan_go_live(chan, vrp);
		if (ret) {
			configfs_undepend_item_unlocked(&chan->item);
			return ret;
		}
	}
	chan->enabled = true;
	return 0;
}

static ssize_t chan_enable_store(struct config_item *item, const char *page,
				 size_t len)
{
	struct vrpmsg_cfs_chan *chan = to_chan(item);
	bool on;
	int ret = 0;

	if (kstrtobool(page, &on)) {
		pr_err("rpmsg configfs: enable takes 0 or 1\n");
		return -EINVAL;
	}
	mutex_lock(&vrpmsg_cfs_lock);
	if (on && !chan->enabled) {
		ret = chan_enable(chan);
	} else if (!on && chan->enabled) {
		chan_go_dead(chan);
		chan->enabled = false;
		configfs_undepend_item_unlocked(&chan->item);
	}
	mutex_unlock(&vrpmsg_cfs_lock);
	return ret ? ret : len;
}

static ssize_t chan_live_show(struct config_item *item, char *page)
{
	struct vrpmsg_cfs_chan *chan = to_chan(item);
	ssize_t ret;

	mutex_lock(&vrpmsg_cfs_lock);
	ret = sysfs_emit(page, "%d\n", !!chan->rpdev);
	mutex_unlock(&vrpmsg_cfs_lock);
	return ret;
}

CONFIGFS_ATTR(chan_, name);
CONFIGFS_ATTR(chan_, src);
CONFIGFS_ATTR(chan_, dst);
CONFIGFS_ATTR(chan_, enable);
CONFIGFS_ATTR_RO(chan_, live);

static struct configfs_attribute *chan_attrs[] = {
	&chan_attr_name,
	&chan_attr_src,
	&chan_attr_dst,
	&chan_attr_enable,
	&chan_attr_live,
	NULL,
};

static void chan_release(struct config_item *item)
{
	kfree(to_chan(item));
}

static struct configfs_item_operations chan_item_ops = {
	.release = chan_release,
};

static const struct config_item_type chan_type = {
	.ct_item_ops	= &chan_item_ops,
	.ct_attrs	= chan_attrs,
	.ct_owner	= THIS_MODULE,
};

/* ---- device directories ---- */

static struct config_item *cdev_make_item(struct config_group *group,
					  const char *name)
{
	struct vrpmsg_cfs_chan *chan;

	chan = kzalloc(sizeof(*chan), GFP_KERNEL);
	if (!chan)
		return ERR_PTR(-ENOMEM);
	chan->dev = to_cdev(group);
	chan->src = RPMSG_ADDR_ANY;
	chan->dst = RPMSG_ADDR_ANY;
	config_item_init_type_name(&chan->item, name, &chan_type);
	mutex_lock(&vrpmsg_cfs_lock);
	list_add_tail(&chan->node, &chan->dev->channels);
	mutex_unlock(&vrpmsg_cfs_lock);
	return &chan->item;
}

static void cdev_drop_item(struct config_group *group, struct config_item *item)
{
	struct vrpmsg_cfs_chan *chan = to_chan(item);

	/* Not enabled: configfs refuses to remove an item depended on. */
	mutex_lock(&vrpmsg_cfs_lock);
	chan_go_dead(chan);
	list_del(&chan->node);
	mutex_unlock(&vrpmsg_cfs_lock);
	config_item_put(item);
}

static void cdev_release(struct config_item *item)
{
	kfree(to_cdev(to_config_group(item)));
}

static struct configfs_group_operations cdev_group_ops = {
	.make_item	= cdev_make_item,
	.drop_item	= cdev_drop_item,
};

static struct configfs_item_operations cdev_item_ops = {
	.release	= cdev_release,
};

static const struct config_item_type cdev_type = {
	.ct_group_ops	= &cdev_group_ops,
	.ct_item_ops	= &cdev_item_ops,
	.ct_owner	= THIS_MODULE,
};

static struct config_group *root_make_group(struct config_group *group,
					    const char *name)
{
	struct vrpmsg_cfs_dev *cdev;
	const char *p;

	for (p = name; *p; p++) {
		if (!isalnum(*p) && !strchr("_.:-", *p)) {
			pr_err("rpmsg configfs: %s is not a device name\n", name);
			return ERR_PTR(-EINVAL);
		}
	}
	cdev = kzalloc(sizeof(*cdev), GFP_KERNEL);
	if (!cdev)
		return ERR_PTR(-ENOMEM);
	INIT_LIST_HEAD(&cdev->channels);
	config_group_init_type_name(&cdev->group, name, &cdev_type);
	mutex_lock(&vrpmsg_cfs_lock);
	list_add_tail(&cdev->node, &vrpmsg_cfs_devs);
	mutex_unlock(&vrpmsg_cfs_lock);
	return &cdev->group;
}

static void root_drop_item(struct config_group *group, struct config_item *item)
{
	/* Empty: configfs refuses to remove a directory with channels. */
	mutex_lock(&vrpmsg_cfs_lock);
	list_del(&to_cdev(to_config_group(item))->node);
	mutex_unlock(&vrpmsg_cfs_lock);
	config_item_put(item);
}

static struct configfs_group_operations root_group_ops = {
	.make_group	= root_make_group,
	.drop_item	= root_drop_item,
};

static const struct config_item_type root_type = {
	.ct_group_ops	= &root_group_ops,
	.ct_owner	= THIS_MODULE,
};

static struct configfs_subsystem vrpmsg_cfs_subsys = {
	.su_group = {
		.cg_item = {
			.ci_namebuf	= "rpmsg",
			.ci_type	= &root_type,
		},
	},
};

/**
 * vrpmsg_cfs_init() - register /sys/kernel/config/rpmsg
 *
 * Return: 0 or a negative errno.
 */
int vrpmsg_cfs_init(void)
{
	config_group_init(&vrpmsg_cfs_subsys.su_group);
	mutex_init(&vrpmsg_cfs_subsys.su_mutex);
	return configfs_register_subsystem(&vrpmsg_cfs_subsys);
}

/**
 * vrpmsg_cfs_exit() - unregister /sys/kernel/config/rpmsg
 */
void vrpmsg_cfs_exit(void)
{
	configfs_unregister_subsystem(&vrpmsg_cfs_subsys);
}
