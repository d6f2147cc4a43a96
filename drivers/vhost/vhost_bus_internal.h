/* SPDX-License-Identifier: GPL-2.0 */
/* Private interfaces between the parts of the vhost bus core. */
#ifndef _VHOST_BUS_INTERNAL_H
#define _VHOST_BUS_INTERNAL_H

struct vhost_device;
struct vhost_driver;

void vhost_publish_vqs(struct vhost_device *vdev);
struct vhost_vq_set *vhost_unpublish_vqs(struct vhost_device *vdev);

int vhost_configfs_init(void);
void vhost_configfs_exit(void);
int vhost_configfs_add_client(struct vhost_driver *drv);
void vhost_configfs_del_client(struct vhost_driver *drv);

#endif /* _VHOST_BUS_INTERNAL_H */
