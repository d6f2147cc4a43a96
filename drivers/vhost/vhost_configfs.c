// SPDX-License-Identifier: GPL-2.0-only
/*
 * configfs binding of vhost clients to transports:
 *
 *   /sys/kernel/config/vhost/
 *     clients/<driver>.<device>[.<vendor>]   one per id of a registered client
 *       <instance>/                          made by userspace, with settings
 *     transports/<name>                      one per registered transport
 *
 * "ln -s clients/X transports/T/" asks transport T to create a vhost device
 * with X's id; the bus then probes the client.  Removing the link removes
 * the device.  A bound client's module is pinned.  A client with settings
 * (a MAC address, say) takes instances: "mkdir clients/X/I" makes one
 * with the client's defaults, its attributes change them, and
 * "ln -s clients/X/I transports/T/" binds the client with those settings.
 * The device gets a copy; an instance's settings cannot change while it
 * is bound (nor can it be removed), and it pins the client's module.
 *
 * When a transport goes away while bound (an endpoint function unbound,
 * say), its directory and links stay; the devices come back when a
 * transport of the same name registers again, and the directory goes
 * once its last link is removed.
 *
 * Locking: vhost_cfs_lock protects the lists and every binding.  It is
 * never held across configfs_register_group() or
 * configfs_unregister_group(), which take configfs' own locks that are
 * held when allow_link() and drop_link() are called.
 *
 * The directories of transports are created and removed by a work item,
 * never by vhost_transport_register() or vhost_transport_unregister()
 * themselves: transports register from callbacks that configfs calls with
 * its own locks held (an endpoint function is bound by a symlink in
 * /sys/kernel/config/pci_ep), and configfs' directory locks share lockdep
 * classes across subsystems.  A transport is bound only once its
 * directory shows.
 */

#include <linux/configfs.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vhost_bus.h>
#include <linux/workqueue.h>

#include "vhost_bus_internal.h"

/*
 * A client directory, or an instance in one: what a link binds.  The
 * instances of a client share its item type (@inst_type), whose attributes
 * are the client's.  @settings and @nlinks are under vhost_cfs_lock.
 */
struct vhost_cfs_client {
	struct config_group group;
	struct vhost_driver *drv;
	struct vhost_device_id id;
	struct list_head node;
	struct config_item_type inst_type;
	void *settings;
	unsigned int nlinks;
};

struct vhost_transport_group {
	struct config_group group;
	struct vhost_transport *t;	/* NULL while the transport is gone */
	struct list_head bindings;
	struct list_head node;
	bool dead;			/* being unregistered */
	bool shown;			/* its directory is registered */
	bool failed;			/* ... and could not be */
};

struct vhost_cfs_binding {
	struct list_head node;
	struct vhost_cfs_client *client;
	struct vhost_device *vdev;	/* NULL while the transport is gone */
};

static DEFINE_MUTEX(vhost_cfs_lock);
static LIST_HEAD(vhost_cfs_clients);
static LIST_HEAD(vhost_cfs_transports);

static void vhost_cfs_sync(struct work_struct *work);
static DECLARE_WORK(vhost_cfs_sync_work, vhost_cfs_sync);

static struct config_group vhost_clients_group;
static struct config_group vhost_transports_group;

static inline struct vhost_cfs_client *to_client(struct config_item *item)
{
	return container_of(to_config_group(item), struct vhost_cfs_client,
			    group);
}

static inline struct vhost_transport_group *to_tgroup(struct config_item *item)
{
	return container_of(to_config_group(item),
			    struct vhost_transport_group, group);
}

static ssize_t vhost_client_device_show(struct config_item *item, char *page)
{
	return sprintf(page, "0x%04x\n", to_client(item)->id.device);
}

static ssize_t vhost_client_vendor_show(struct config_item *item, char *page)
{
	return sprintf(page, "0x%04x\n", to_client(item)->id.vendor);
}

CONFIGFS_ATTR_RO(vhost_client_, device);
CONFIGFS_ATTR_RO(vhost_client_, vendor);

static struct configfs_attribute *vhost_client_attrs[] = {
	&vhost_client_attr_device,
	&vhost_client_attr_vendor,
	NULL,
};

static void vhost_client_release(struct config_item *item)
{
	struct vhost_cfs_client *c = to_client(item);

	kfree(c->settings);
	kfree(c);
}

static struct configfs_item_operations vhost_client_item_ops = {
	.release = vhost_client_release,
};

/* New settings of @drv, at its defaults. */
static void *vhost_settings_new(struct vhost_driver *drv)
{
	void *settings = kzalloc(drv->settings_size, GFP_KERNEL);

	if (settings && drv->settings_init)
		drv->settings_init(settings);
	return settings;
}

static struct config_group *vhost_client_make_instance(struct config_group *group,
						       const char *name)
{
	struct vhost_cfs_client *parent = to_client(&group->cg_item);
	struct vhost_driver *drv = parent->drv;
	struct vhost_cfs_client *c;

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return ERR_PTR(-ENOMEM);
	c->settings = vhost_settings_new(drv);
	if (!c->settings) {
		kfree(c);
		return ERR_PTR(-ENOMEM);
	}
	c->drv = drv;
	c->id = parent->id;
	config_group_init_type_name(&c->group, name, &parent->inst_type);
	return &c->group;
}

static struct configfs_group_operations vhost_client_group_ops = {
	.make_group = vhost_client_make_instance,
};

static const struct config_item_type vhost_client_type = {
	.ct_item_ops = &vhost_client_item_ops,
	.ct_attrs = vhost_client_attrs,
	.ct_owner = THIS_MODULE,
};

/* A client with settings: its directory takes instances. */
static const struct config_item_type vhost_client_settings_type = {
	.ct_item_ops = &vhost_client_item_ops,
	.ct_group_ops = &vhost_client_group_ops,
	.ct_attrs = vhost_client_attrs,
	.ct_owner = THIS_MODULE,
};

/* A client directory or an instance: the target of a binding. */
static bool vhost_bindable(const struct config_item *item)
{
	return item->ci_type &&
	       item->ci_type->ct_item_ops == &vhost_client_item_ops;
}

/**
 * vhost_settings_get() - reach the settings of an instance
 * @item: the instance, as passed to its attribute's show or store method
 * @write: the caller will change them
 *
 * For a client's &vhost_driver.settings_attrs.  On success the settings
 * are locked against bindings and other attributes until
 * vhost_settings_put(); an instance that is bound cannot be changed.
 *
 * Return: the settings, or ERR_PTR(-EBUSY) for a write to a bound
 * instance (logged).
 */
void *vhost_settings_get(struct config_item *item, bool write)
{
	struct vhost_cfs_client *c = to_client(item);

	mutex_lock(&vhost_cfs_lock);
	if (write && c->nlinks) {
		mutex_unlock(&vhost_cfs_lock);
		pr_err("vhost: %s is bound: unlink it to change its settings\n",
		       config_item_name(item));
		return ERR_PTR(-EBUSY);
	}
	return c->settings;
}
EXPORT_SYMBOL_GPL(vhost_settings_get);

/**
 * vhost_settings_put() - done with the settings of an instance
 * @item: the instance given to vhost_settings_get(), which succeeded
 */
void vhost_settings_put(struct config_item *item)
{
	mutex_unlock(&vhost_cfs_lock);
}
EXPORT_SYMBOL_GPL(vhost_settings_put);

/*
 * Create the device of a binding of @c: with an instance's settings or,
 * for the client directory of a client with settings, fresh defaults.
 * vhost_cfs_lock held.
 */
static struct vhost_device *vhost_bind_add(struct vhost_transport *t,
					   struct vhost_cfs_client *c)
{
	struct vhost_driver *drv = c->drv;
	struct vhost_bind bind = {
		.client = drv->driver.name,
		.settings = c->settings,
		.settings_size = drv->settings_size,
	};
	struct vhost_device *vdev;
	void *defaults = NULL;

	if (drv->settings_size && !c->settings) {
		defaults = vhost_settings_new(drv);
		if (!defaults)
			return ERR_PTR(-ENOMEM);
		bind.settings = defaults;
	}
	vdev = t->add(t, &c->id, &bind);
	kfree(defaults);
	return vdev;
}

static struct vhost_cfs_binding *
vhost_find_binding(struct vhost_transport_group *tg,
		   struct vhost_cfs_client *client)
{
	struct vhost_cfs_binding *b;

	list_for_each_entry(b, &tg->bindings, node)
		if (b->client == client)
			return b;
	return NULL;
}

static int vhost_transport_allow_link(struct config_item *src,
				      struct config_item *target)
{
	struct vhost_transport_group *tg = to_tgroup(src);
	struct vhost_cfs_client *client;
	struct vhost_cfs_binding *b;
	struct vhost_device *vdev;
	int ret;

	if (!vhost_bindable(target)) {
		pr_err("vhost: %s: link target %s is not a vhost client\n",
		       config_item_name(src), config_item_name(target));
		return -EINVAL;
	}
	client = to_client(target);

	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	b->client = client;

	mutex_lock(&vhost_cfs_lock);
	if (!tg->t || tg->dead) {
		pr_err("vhost: %s: the transport is gone\n",
		       config_item_name(src));
		ret = -ENODEV;
		goto err;
	}
	if (vhost_find_binding(tg, client)) {
		pr_err("vhost: %s: %s is already bound\n",
		       config_item_name(src), config_item_name(target));
		ret = -EEXIST;
		goto err;
	}
	if (!try_module_get(client->drv->driver.owner)) {
		ret = -ENODEV;
		goto err;
	}
	vdev = vhost_bind_add(tg->t, client);
	if (IS_ERR(vdev)) {
		ret = PTR_ERR(vdev);
		pr_err("vhost: %s: cannot create a device for %s: %d\n",
		       config_item_name(src), config_item_name(target), ret);
		module_put(client->drv->driver.owner);
		goto err;
	}
	b->vdev = vdev;
	list_add_tail(&b->node, &tg->bindings);
	client->nlinks++;
	mutex_unlock(&vhost_cfs_lock);
	return 0;
err:
	mutex_unlock(&vhost_cfs_lock);
	kfree(b);
	return ret;
}

static void vhost_transport_drop_link(struct config_item *src,
				      struct config_item *target)
{
	struct vhost_transport_group *tg = to_tgroup(src);
	struct vhost_cfs_binding *b;
	bool reap;

	mutex_lock(&vhost_cfs_lock);
	b = vhost_find_binding(tg, to_client(target));
	if (!b) {
		mutex_unlock(&vhost_cfs_lock);
		return;
	}
	list_del(&b->node);
	b->client->nlinks--;
	if (b->vdev)
		tg->t->del(tg->t, b->vdev);
	module_put(b->client->drv->driver.owner);
	reap = !tg->t && list_empty(&tg->bindings);
	mutex_unlock(&vhost_cfs_lock);
	kfree(b);
	/* configfs holds locks here that unregistering a group takes. */
	if (reap)
		schedule_work(&vhost_cfs_sync_work);
}

static void vhost_transport_release(struct config_item *item)
{
	kfree(to_tgroup(item));
}

static struct configfs_item_operations vhost_transport_item_ops = {
	.allow_link = vhost_transport_allow_link,
	.drop_link = vhost_transport_drop_link,
	.release = vhost_transport_release,
};

static const struct config_item_type vhost_transport_type = {
	.ct_item_ops = &vhost_transport_item_ops,
	.ct_owner = THIS_MODULE,
};

static const struct config_item_type vhost_dir_type = {
	.ct_owner = THIS_MODULE,
};

/*
 * Bring the transport directories in line with the list: show those of
 * new transports, remove those of departed transports whose last link
 * went.
 */
static void vhost_cfs_sync(struct work_struct *work)
{
	struct vhost_transport_group *tg;
	int ret;

	for (;;) {
		struct vhost_transport_group *drop = NULL, *show = NULL;

		mutex_lock(&vhost_cfs_lock);
		list_for_each_entry(tg, &vhost_cfs_transports, node) {
			if (!tg->t && list_empty(&tg->bindings)) {
				tg->dead = true;
				list_del(&tg->node);
				drop = tg;
				break;
			}
			if (!tg->shown && !tg->failed) {
				show = tg;
				break;
			}
		}
		mutex_unlock(&vhost_cfs_lock);
		if (drop) {
			if (drop->shown)
				configfs_unregister_group(&drop->group);
			config_item_put(&drop->group.cg_item);
		} else if (show) {
			ret = configfs_register_group(&vhost_transports_group,
						      &show->group);
			mutex_lock(&vhost_cfs_lock);
			show->shown = !ret;
			show->failed = !!ret;
			mutex_unlock(&vhost_cfs_lock);
			if (ret)
				pr_err("vhost: no configfs directory for transport %s: %d\n",
				       config_item_name(&show->group.cg_item),
				       ret);
		} else {
			return;
		}
	}
}

static struct vhost_transport_group *vhost_find_tgroup(const char *name)
{
	struct vhost_transport_group *tg;

	list_for_each_entry(tg, &vhost_cfs_transports, node)
		if (!tg->dead && !strcmp(config_item_name(&tg->group.cg_item),
					 name))
			return tg;
	return NULL;
}

/**
 * vhost_transport_register() - let userspace bind clients to a transport
 * @t: the transport, with a unique name and its add and del ops
 *
 * Creates /sys/kernel/config/vhost/transports/<name>, shortly after the
 * call: it may be called with configfs locks held.  If a transport of that
 * name went away while clients were bound, its directory is taken over and
 * the bound devices are created again.
 *
 * Return: 0, -EINVAL for a bad name or missing ops, -EEXIST if a
 * transport of that name is registered, or another negative errno.
 */
int vhost_transport_register(struct vhost_transport *t)
{
	struct vhost_transport_group *tg, *new;
	struct vhost_cfs_binding *b;

	if (!t->name || !*t->name || strchr(t->name, '/') || !t->add ||
	    !t->del) {
		pr_err("vhost: transport %s refused: a name without '/', add and del are mandatory\n",
		       t->name ?: "(unnamed)");
		return -EINVAL;
	}

	new = kzalloc(sizeof(*new), GFP_KERNEL);
	if (!new)
		return -ENOMEM;
	INIT_LIST_HEAD(&new->bindings);
	config_group_init_type_name(&new->group, t->name,
				    &vhost_transport_type);

	mutex_lock(&vhost_cfs_lock);
	tg = vhost_find_tgroup(t->name);
	if (tg && tg->t) {
		mutex_unlock(&vhost_cfs_lock);
		config_item_put(&new->group.cg_item);
		pr_err("vhost: transport %s is already registered\n", t->name);
		return -EEXIST;
	}
	if (tg) {
		/* Take over the directory left behind, and its links. */
		tg->t = t;
		t->group = tg;
		list_for_each_entry(b, &tg->bindings, node) {
			struct vhost_device *vdev = vhost_bind_add(t, b->client);

			if (IS_ERR(vdev)) {
				pr_err("vhost: %s: cannot create a device for %s again: %ld\n",
				       t->name,
				       config_item_name(&b->client->group.cg_item),
				       PTR_ERR(vdev));
				continue;
			}
			b->vdev = vdev;
		}
		mutex_unlock(&vhost_cfs_lock);
		config_item_put(&new->group.cg_item);
		return 0;
	}
	new->t = t;
	t->group = new;
	list_add_tail(&new->node, &vhost_cfs_transports);
	mutex_unlock(&vhost_cfs_lock);
	schedule_work(&vhost_cfs_sync_work);
	return 0;
}
EXPORT_SYMBOL_GPL(vhost_transport_register);

/**
 * vhost_transport_unregister() - the transport goes away
 * @t: the transport
 *
 * Every device bound to it is deleted (the clients are removed first).
 * Its directory stays while links remain in it, to be taken over by the
 * next transport of the same name; without links it goes shortly after.
 */
void vhost_transport_unregister(struct vhost_transport *t)
{
	struct vhost_transport_group *tg = t->group;
	struct vhost_cfs_binding *b;

	mutex_lock(&vhost_cfs_lock);
	list_for_each_entry(b, &tg->bindings, node) {
		if (b->vdev)
			t->del(t, b->vdev);
		b->vdev = NULL;
	}
	tg->t = NULL;
	t->group = NULL;
	mutex_unlock(&vhost_cfs_lock);
	/* Without links, the directory goes (later: see the locking note). */
	schedule_work(&vhost_cfs_sync_work);
}
EXPORT_SYMBOL_GPL(vhost_transport_unregister);

int vhost_configfs_add_client(struct vhost_driver *drv)
{
	const struct vhost_device_id *id;
	struct vhost_cfs_client *c;
	char *name;
	int ret;

	for (id = drv->id_table; id->device; id++) {
		if (id->device == VHOST_DEV_ANY_ID)
			continue;	/* nothing to create a device with */
		if (id->vendor == VHOST_DEV_ANY_ID)
			name = kasprintf(GFP_KERNEL, "%s.%u", drv->driver.name,
					 id->device);
		else
			name = kasprintf(GFP_KERNEL, "%s.%u.%x",
					 drv->driver.name, id->device,
					 id->vendor);
		c = kzalloc(sizeof(*c), GFP_KERNEL);
		if (!c || !name) {
			kfree(c);
			kfree(name);
			ret = -ENOMEM;
			goto err;
		}
		c->drv = drv;
		c->id = *id;
		if (id->vendor == VHOST_DEV_ANY_ID)
			c->id.vendor = 0;
		c->inst_type.ct_item_ops = &vhost_client_item_ops;
		c->inst_type.ct_attrs = drv->settings_attrs;
		/* An instance pins the client's module. */
		c->inst_type.ct_owner = drv->driver.owner;
		config_group_init_type_name(&c->group, name,
					    drv->settings_size ?
					    &vhost_client_settings_type :
					    &vhost_client_type);
		kfree(name);
		ret = configfs_register_group(&vhost_clients_group, &c->group);
		if (ret) {
			config_item_put(&c->group.cg_item);
			goto err;
		}
		mutex_lock(&vhost_cfs_lock);
		list_add_tail(&c->node, &vhost_cfs_clients);
		mutex_unlock(&vhost_cfs_lock);
	}
	return 0;
err:
	vhost_configfs_del_client(drv);
	return ret;
}

void vhost_configfs_del_client(struct vhost_driver *drv)
{
	struct vhost_cfs_client *c;

	for (;;) {
		struct vhost_cfs_client *found = NULL;

		mutex_lock(&vhost_cfs_lock);
		list_for_each_entry(c, &vhost_cfs_clients, node) {
			if (c->drv == drv) {
				list_del(&c->node);
				found = c;
				break;
			}
		}
		mutex_unlock(&vhost_cfs_lock);
		if (!found)
			return;
		/* Bound clients are pinned: no link points here. */
		configfs_unregister_group(&found->group);
		config_item_put(&found->group.cg_item);
	}
}

static struct configfs_subsystem vhost_cfs_subsys = {
	.su_group = {
		.cg_item = {
			.ci_namebuf = "vhost",
			.ci_type = &vhost_dir_type,
		},
	},
};

int __init vhost_configfs_init(void)
{
	int ret;

	config_group_init(&vhost_cfs_subsys.su_group);
	mutex_init(&vhost_cfs_subsys.su_mutex);
	config_group_init_type_name(&vhost_clients_group, "clients",
				    &vhost_dir_type);
	configfs_add_default_group(&vhost_clients_group,
				   &vhost_cfs_subsys.su_group);
	config_group_init_type_name(&vhost_transports_group, "transports",
				    &vhost_dir_type);
	configfs_add_default_group(&vhost_transports_group,
				   &vhost_cfs_subsys.su_group);
	ret = configfs_register_subsystem(&vhost_cfs_subsys);
	if (ret)
		pr_err("vhost: cannot register configfs: %d\n", ret);
	return ret;
}

void vhost_configfs_exit(void)
{
	flush_work(&vhost_cfs_sync_work);
	configfs_unregister_subsystem(&vhost_cfs_subsys);
}
