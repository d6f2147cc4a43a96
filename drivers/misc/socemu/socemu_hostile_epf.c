// SPDX-License-Identifier: GPL-2.0-only
/*
 * socemu_hostile_epf: a hostile virtio endpoint function, for the tests of
 * virtio_pci_epf on the rig.
 *
 * The function looks like pci-epf-vhost carrying a vhost_test_client: the
 * class code VIRTIO_PCI_EPF_CLASS, a version 2 register block
 * (include/uapi/linux/virtio_pci_epf.h) in the first free BAR, virtio
 * device 0xfff0 with the config string "hostile", so that the root
 * complex's virtio_pci_epf probes it and virtio_vhost_test binds to the
 * virtio device. It is hostile in one way, chosen with the "mode"
 * parameter when the module is loaded:
 *
 *   bad-doorbell  DB_BAR names a BAR the function does not have: the root
 *                 complex must refuse to probe.
 *   bad-layout    config space runs past the end of the register block:
 *                 the root complex must refuse to probe.
 *   no-ack        the driver's epoch is never acknowledged: the root
 *                 complex must give up after cmd_timeout_ms.
 *   gen-odd       CONFIG_GEN stays odd, as if the device never finished
 *                 updating config space: a config read must end, and the
 *                 device be broken.
 *   gen-spin      CONFIG_GEN never settles: from DRIVER_OK on, it is bumped
 *                 by 2 from a hard interrupt timer, started again spin_us
 *                 microseconds after each bump, for at most spin_ms
 *                 (writing 0 to the parameter stops it); and CONFIG_SIZE
 *                 is 12, 4 bytes short of the 16 that virtio_vhost_test
 *                 reads. A config read must end, and the device be
 *                 broken when a read never sees the generation settle.
 *
 * Otherwise the function behaves: a service thread polls the register
 * block every millisecond, acknowledges the driver's epochs (except in
 * no-ack mode) and answers each command: SET_STATUS sets STATUS, the
 * others succeed and do nothing. There is no queue service and no
 * interrupt towards the root complex.
 *
 * Why gen-spin needs both: a config read on the root complex never
 * sleeps, so on a VM of the rig (one CPU, no kernel preemption) nothing
 * but an interrupt changes the generation between the two reads that
 * bracket the copy of config space, and under QEMU's TCG the timer comes
 * back some 50 to 100 microseconds after a bump (its interrupts and
 * QEMU's own timer latency), more than such a copy takes. Each byte the
 * driver reads beyond CONFIG_SIZE costs it a logged error, some hundred
 * microseconds on the rig's serial console: four per copy, so the device
 * changes the generation during every copy, as a device on another SoC
 * changing it faster than the driver reads would.
 *
 * Locking: the endpoint core calls bind, unbind and epc_init under
 * epf->lock. The service thread is the only writer of the register block
 * once it runs, apart from the gen-spin timer, which writes CONFIG_GEN
 * only. The thread starts the timer and stops it (with the irq_work that
 * starts it again); unbind stops the thread first, then the timer.
 */

#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/irq_work.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/pci-epc.h>
#include <linux/pci-epf.h>
#include <linux/string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci_epf.h>

#define HOSTILE_DEVICE_ID	0xfff0
#define HOSTILE_CONFIG		"hostile"
#define HOSTILE_CONFIG_SIZE	16
/* gen-spin: 4 bytes short of what virtio_vhost_test reads, see above. */
#define HOSTILE_SPIN_CONFIG_SIZE	(HOSTILE_CONFIG_SIZE - 4)
#define HOSTILE_QUEUE_SIZE_MAX	256
/* A block of the smallest size: one NOTIFY word, then config space. */
#define HOSTILE_NOTIFY_OFF	VIRTIO_PCI_EPF_LAYOUT_END
#define HOSTILE_CONFIG_OFF	(VIRTIO_PCI_EPF_LAYOUT_END + 16)
#define HOSTILE_POLL_US		1000
/* Commands answered per pass of the service thread. */
#define HOSTILE_POLL_BUDGET	1
/* No PCI ID until configfs sets one. */
#define HOSTILE_NO_ID		0xffff

enum hostile_mode {
	HOSTILE_BAD_DOORBELL,
	HOSTILE_BAD_LAYOUT,
	HOSTILE_NO_ACK,
	HOSTILE_GEN_ODD,
	HOSTILE_GEN_SPIN,
};

static const char * const hostile_modes[] = {
	[HOSTILE_BAD_DOORBELL]	= "bad-doorbell",
	[HOSTILE_BAD_LAYOUT]	= "bad-layout",
	[HOSTILE_NO_ACK]	= "no-ack",
	[HOSTILE_GEN_ODD]	= "gen-odd",
	[HOSTILE_GEN_SPIN]	= "gen-spin",
};

static char *mode = "gen-odd";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "how the function is hostile: bad-doorbell, bad-layout, no-ack, gen-odd (default) or gen-spin");

static unsigned int spin_us = 20;
module_param(spin_us, uint, 0644);
MODULE_PARM_DESC(spin_us, "gen-spin: from a bump of the generation to the timer of the next, in us (default 20)");

static unsigned int spin_ms = 60000;
module_param(spin_ms, uint, 0644);
MODULE_PARM_DESC(spin_ms, "gen-spin: longest run of generation bumps, in ms (default 60000)");

static enum hostile_mode hostile_mode;

struct hostile_epf {
	struct pci_epf *epf;
	const struct pci_epc_features *features;
	enum pci_barno bar;
	void *reg;
	bool initialized;
	struct task_struct *thread;

	/* Service thread state. */
	u32 acked;			/* driver epoch acknowledged, 0: none */
	u32 refused;			/* driver epoch last seen in no-ack */
	u32 cmd_done;
	u32 commands;

	/* gen-spin */
	struct hrtimer spin;
	struct irq_work rearm;		/* starts the timer again */
	bool spinning;			/* the thread started the timer */
	bool stopping;			/* the thread is stopping it */
	u32 gen;
	ktime_t spin_start;
	unsigned long bumps;
};

static struct pci_epf_header hostile_header = {
	.vendorid	= HOSTILE_NO_ID,
	.deviceid	= HOSTILE_NO_ID,
	.baseclass_code	= PCI_BASE_CLASS_COMMUNICATION,
	.subclass_code	= (VIRTIO_PCI_EPF_CLASS >> 8) & 0xff,
	.progif_code	= VIRTIO_PCI_EPF_CLASS & 0xff,
	.interrupt_pin	= PCI_INTERRUPT_INTA,
};

static u32 hostile_rd(struct hostile_epf *h, unsigned int off)
{
	return le32_to_cpu(READ_ONCE(*(__le32 *)(h->reg + off)));
}

static void hostile_wr(struct hostile_epf *h, unsigned int off, u32 val)
{
	WRITE_ONCE(*(__le32 *)(h->reg + off), cpu_to_le32(val));
}

/* A BAR the function does not set up, for bad-doorbell. */
static enum pci_barno hostile_absent_bar(struct hostile_epf *h)
{
	return h->bar == BAR_3 ? BAR_4 : BAR_3;
}

static void hostile_init_registers(struct hostile_epf *h)
{
	u64 features = BIT_ULL(0) | BIT_ULL(1) | BIT_ULL(VIRTIO_F_VERSION_1) |
		       BIT_ULL(VIRTIO_F_ACCESS_PLATFORM) |
		       BIT_ULL(VIRTIO_F_ORDER_PLATFORM);

	memset(h->reg, 0, VIRTIO_PCI_EPF_REGS_MIN);
	hostile_wr(h, VIRTIO_PCI_EPF_MAGIC_OFF, VIRTIO_PCI_EPF_MAGIC);
	hostile_wr(h, VIRTIO_PCI_EPF_VERSION_OFF, VIRTIO_PCI_EPF_VERSION);
	hostile_wr(h, VIRTIO_PCI_EPF_DEVICE_ID, HOSTILE_DEVICE_ID);
	hostile_wr(h, VIRTIO_PCI_EPF_VENDOR_ID, 0);
	hostile_wr(h, VIRTIO_PCI_EPF_DEVICE_FEATURES, lower_32_bits(features));
	hostile_wr(h, VIRTIO_PCI_EPF_DEVICE_FEATURES + 4,
		   upper_32_bits(features));
	hostile_wr(h, VIRTIO_PCI_EPF_NUM_QUEUES, 1);
	hostile_wr(h, VIRTIO_PCI_EPF_QUEUE_SEL + VIRTIO_PCI_EPF_Q_SIZE_MAX,
		   HOSTILE_QUEUE_SIZE_MAX);
	hostile_wr(h, VIRTIO_PCI_EPF_CONFIG_SIZE,
		   hostile_mode == HOSTILE_GEN_SPIN ? HOSTILE_SPIN_CONFIG_SIZE :
		   HOSTILE_CONFIG_SIZE);
	hostile_wr(h, VIRTIO_PCI_EPF_NOTIFY_OFF, HOSTILE_NOTIFY_OFF);
	hostile_wr(h, VIRTIO_PCI_EPF_CONFIG_OFF,
		   hostile_mode == HOSTILE_BAD_LAYOUT ?
		   VIRTIO_PCI_EPF_REGS_MIN - 4 : HOSTILE_CONFIG_OFF);
	memcpy(h->reg + HOSTILE_CONFIG_OFF, HOSTILE_CONFIG,
	       sizeof(HOSTILE_CONFIG));
	/* Odd: config space being updated, for good in gen-odd. */
	h->gen = hostile_mode == HOSTILE_GEN_ODD ? 1 : 0;
	hostile_wr(h, VIRTIO_PCI_EPF_CONFIG_GEN, h->gen);
	if (hostile_mode == HOSTILE_BAD_DOORBELL) {
		hostile_wr(h, VIRTIO_PCI_EPF_DB_BAR, hostile_absent_bar(h));
		hostile_wr(h, VIRTIO_PCI_EPF_DB_OFFSET, 0);
	} else {
		hostile_wr(h, VIRTIO_PCI_EPF_DB_BAR, VIRTIO_PCI_EPF_DB_NONE);
	}
	h->acked = 0;
	h->refused = 0;
	h->cmd_done = hostile_rd(h, VIRTIO_PCI_EPF_CMD_SEQ);
	hostile_wr(h, VIRTIO_PCI_EPF_CMD_DONE, h->cmd_done);
	wmb();	/* the register block before the epoch that announces it */
	hostile_wr(h, VIRTIO_PCI_EPF_DEVICE_EPOCH, 1);
}

static ktime_t hostile_spin_period(void)
{
	return ns_to_ktime((u64)max(READ_ONCE(spin_us), 1U) * NSEC_PER_USEC);
}

/*
 * gen-spin: a new even generation on every expiry, for at most spin_ms.
 * The timer is started again from an irq_work, once the timer interrupt
 * is over: restarted from here, a period shorter than the rest of that
 * interrupt would keep the interrupt looping over expired timers until
 * the hrtimer core gives up on it ("hrtimer: interrupt took").
 */
static enum hrtimer_restart hostile_spin(struct hrtimer *timer)
{
	struct hostile_epf *h = container_of(timer, struct hostile_epf, spin);

	h->gen += 2;
	hostile_wr(h, VIRTIO_PCI_EPF_CONFIG_GEN, h->gen);
	h->bumps++;
	/* spin_ms is read each time: writing 0 stops the bumps. */
	if (!READ_ONCE(h->stopping) &&
	    ktime_before(ktime_get(),
			 ktime_add_ms(h->spin_start, READ_ONCE(spin_ms))))
		irq_work_queue(&h->rearm);
	return HRTIMER_NORESTART;
}

static void hostile_rearm(struct irq_work *work)
{
	struct hostile_epf *h = container_of(work, struct hostile_epf, rearm);

	if (!READ_ONCE(h->stopping))
		hrtimer_start(&h->spin, hostile_spin_period(),
			      HRTIMER_MODE_REL_HARD);
}

static void hostile_spin_start(struct hostile_epf *h)
{
	if (hostile_mode != HOSTILE_GEN_SPIN || h->spinning)
		return;
	h->spin_start = ktime_get();
	h->bumps = 0;
	WRITE_ONCE(h->stopping, false);
	h->spinning = true;
	hrtimer_start(&h->spin, hostile_spin_period(), HRTIMER_MODE_REL_HARD);
	dev_info(&h->epf->dev, "DRIVER_OK: config generation bumped on a %u us timer for up to %u ms\n",
		 spin_us, spin_ms);
}

static void hostile_spin_stop(struct hostile_epf *h)
{
	if (!h->spinning)
		return;
	/* The timer and the irq_work start each other: cancel both. */
	WRITE_ONCE(h->stopping, true);
	hrtimer_cancel(&h->spin);
	irq_work_sync(&h->rearm);
	hrtimer_cancel(&h->spin);
	h->spinning = false;
	dev_info(&h->epf->dev, "config generation bumped %lu times in %lld ms\n",
		 h->bumps, ktime_ms_delta(ktime_get(), h->spin_start));
}

/* A new driver epoch: forget the old driver, answer from CMD_SEQ on. */
static void hostile_epoch(struct hostile_epf *h, u32 epoch)
{
	if (hostile_mode == HOSTILE_NO_ACK) {
		if (epoch != h->refused)
			dev_info(&h->epf->dev, "driver epoch %#x not acknowledged\n",
				 epoch);
		h->refused = epoch;
		return;
	}
	hostile_spin_stop(h);
	hostile_wr(h, VIRTIO_PCI_EPF_STATUS, 0);
	h->cmd_done = hostile_rd(h, VIRTIO_PCI_EPF_CMD_SEQ);
	hostile_wr(h, VIRTIO_PCI_EPF_CMD_DONE, h->cmd_done);
	wmb();	/* CMD_DONE before the epoch is acknowledged */
	hostile_wr(h, VIRTIO_PCI_EPF_EPOCH_ACK, epoch);
	h->acked = epoch;
}

static void hostile_command(struct hostile_epf *h, u32 seq)
{
	u32 cmd = hostile_rd(h, VIRTIO_PCI_EPF_CMD);
	u32 arg0 = hostile_rd(h, VIRTIO_PCI_EPF_CMD_ARG0);
	u32 result = 0;

	switch (cmd) {
	case VIRTIO_PCI_EPF_CMD_SET_STATUS:
		hostile_wr(h, VIRTIO_PCI_EPF_STATUS, arg0 & 0xff);
		if (arg0 & VIRTIO_CONFIG_S_DRIVER_OK)
			hostile_spin_start(h);
		else if (!arg0)
			hostile_spin_stop(h);
		break;
	case VIRTIO_PCI_EPF_CMD_QUEUE_ENABLE:
	case VIRTIO_PCI_EPF_CMD_CONFIG_WRITE:
		break;
	default:
		result = EINVAL;
		break;
	}
	hostile_wr(h, VIRTIO_PCI_EPF_CMD_RESULT, result);
	wmb();	/* the result before the answer */
	hostile_wr(h, VIRTIO_PCI_EPF_CMD_DONE, seq);
	h->cmd_done = seq;
	h->commands++;
}

static int hostile_thread(void *data)
{
	struct hostile_epf *h = data;

	while (!kthread_should_stop()) {
		u32 epoch = hostile_rd(h, VIRTIO_PCI_EPF_DRIVER_EPOCH);
		unsigned int budget = HOSTILE_POLL_BUDGET;
		u32 seq;

		if (epoch && epoch != h->acked)
			hostile_epoch(h, epoch);
		while (h->acked && budget--) {
			seq = hostile_rd(h, VIRTIO_PCI_EPF_CMD_SEQ);
			if (seq == h->cmd_done)
				break;
			hostile_command(h, seq);
		}
		usleep_range(HOSTILE_POLL_US, HOSTILE_POLL_US + HOSTILE_POLL_US / 4);
	}
	return 0;
}

static void hostile_stop(struct hostile_epf *h)
{
	if (h->thread) {
		kthread_stop(h->thread);
		h->thread = NULL;
	}
	hostile_spin_stop(h);
}

static int hostile_epc_init(struct pci_epf *epf)
{
	struct hostile_epf *h = epf_get_drvdata(epf);
	struct pci_epc *epc = epf->epc;
	struct task_struct *thread;
	int ret;

	hostile_stop(h);
	ret = pci_epc_write_header(epc, epf->func_no, epf->vfunc_no,
				   epf->header);
	if (ret)
		return ret;
	ret = pci_epc_set_bar(epc, epf->func_no, epf->vfunc_no,
			      &epf->bar[h->bar]);
	if (ret)
		return ret;
	h->initialized = true;
	if (h->features->msi_capable) {
		ret = pci_epc_set_msi(epc, epf->func_no, epf->vfunc_no, 1);
		if (ret)
			return ret;
	}
	hostile_init_registers(h);
	thread = kthread_run(hostile_thread, h, "hostile-%s",
			     dev_name(&epf->dev));
	if (IS_ERR(thread)) {
		dev_err(&epf->dev, "no service thread: %pe\n", thread);
		return PTR_ERR(thread);
	}
	h->thread = thread;
	return 0;
}

static void hostile_epc_deinit(struct pci_epf *epf)
{
	struct hostile_epf *h = epf_get_drvdata(epf);

	hostile_stop(h);
	if (h->initialized)
		pci_epc_clear_bar(epf->epc, epf->func_no, epf->vfunc_no,
				  &epf->bar[h->bar]);
	h->initialized = false;
}

static const struct pci_epc_event_ops hostile_event_ops = {
	.epc_init	= hostile_epc_init,
	.epc_deinit	= hostile_epc_deinit,
};

static int hostile_bind(struct pci_epf *epf)
{
	struct hostile_epf *h = epf_get_drvdata(epf);
	const struct pci_epc_features *features;

	if (epf->header->vendorid == HOSTILE_NO_ID ||
	    epf->header->deviceid == HOSTILE_NO_ID) {
		dev_err(&epf->dev, "set vendorid and deviceid in configfs first\n");
		return -EINVAL;
	}
	features = pci_epc_get_features(epf->epc, epf->func_no, epf->vfunc_no);
	if (!features)
		return -EOPNOTSUPP;
	h->bar = pci_epc_get_first_free_bar(features);
	if (h->bar == NO_BAR)
		return -EOPNOTSUPP;
	h->features = features;
	h->reg = pci_epf_alloc_space(epf, VIRTIO_PCI_EPF_REGS_MIN, h->bar,
				     features, PRIMARY_INTERFACE);
	if (!h->reg)
		return -ENOMEM;
	hostile_init_registers(h);
	dev_info(&epf->dev, "hostile function: mode %s, registers in BAR%d\n",
		 hostile_modes[hostile_mode], h->bar);
	return 0;
}

static void hostile_unbind(struct pci_epf *epf)
{
	struct hostile_epf *h = epf_get_drvdata(epf);

	hostile_epc_deinit(epf);
	dev_info(&epf->dev, "hostile function unbound: %u commands answered\n",
		 h->commands);
	pci_epf_free_space(epf, h->reg, h->bar, PRIMARY_INTERFACE);
	h->reg = NULL;
}

static int hostile_probe(struct pci_epf *epf,
			 const struct pci_epf_device_id *id)
{
	struct hostile_epf *h;

	h = devm_kzalloc(&epf->dev, sizeof(*h), GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	h->epf = epf;
	hrtimer_init(&h->spin, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	h->spin.function = hostile_spin;
	h->rearm = IRQ_WORK_INIT_HARD(hostile_rearm);
	epf->header = devm_kmemdup(&epf->dev, &hostile_header,
				   sizeof(hostile_header), GFP_KERNEL);
	if (!epf->header)
		return -ENOMEM;
	epf->event_ops = &hostile_event_ops;
	epf_set_drvdata(epf, h);
	return 0;
}

static const struct pci_epf_device_id hostile_ids[] = {
	{ .name = "socemu_hostile_epf" },
	{ }
};

static const struct pci_epf_ops hostile_ops = {
	.bind	= hostile_bind,
	.unbind	= hostile_unbind,
};

static struct pci_epf_driver hostile_driver = {
	.driver.name	= "socemu_hostile_epf",
	.probe		= hostile_probe,
	.id_table	= hostile_ids,
	.ops		= &hostile_ops,
	.owner		= THIS_MODULE,
};

static int __init hostile_init(void)
{
	int ret = sysfs_match_string(hostile_modes, mode);

	if (ret < 0) {
		pr_err("socemu_hostile_epf: unknown mode \"%s\"\n", mode);
		return ret;
	}
	hostile_mode = ret;
	return pci_epf_register_driver(&hostile_driver);
}
module_init(hostile_init);

static void __exit hostile_exit(void)
{
	pci_epf_unregister_driver(&hostile_driver);
}
module_exit(hostile_exit);

MODULE_DESCRIPTION("Hostile virtio endpoint function, for the tests of virtio_pci_epf");
MODULE_LICENSE("GPL");
