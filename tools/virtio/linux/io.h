/* SPDX-License-Identifier: GPL-2.0 */
/*
 * I/O accessors for the userspace build of vringh: "__iomem" memory is
 * ordinary memory here, in little-endian byte order like PCI.
 */
#ifndef LINUX_IO_H
#define LINUX_IO_H
#include <endian.h>
#include <string.h>
#include <linux/compiler.h>
#include <linux/types.h>

/*
 * A program may define io_access_check() to see every access made through
 * these accessors: vringh_mmio_test and vringh_mmio_fuzz use it to prove
 * that nothing outside their windows is touched.  Others need not.
 */
#pragma weak io_access_check
void io_access_check(const void *addr, size_t len);

static inline void __io_check(const void __iomem *addr, size_t len)
{
	if (io_access_check)
		io_access_check((const void *)addr, len);
}

static inline u16 ioread16(const void __iomem *addr)
{
	__io_check(addr, 2);
	return le16toh(READ_ONCE(*(const u16 *)addr));
}

static inline u16 ioread16be(const void __iomem *addr)
{
	__io_check(addr, 2);
	return be16toh(READ_ONCE(*(const u16 *)addr));
}

static inline u32 ioread32(const void __iomem *addr)
{
	__io_check(addr, 4);
	return le32toh(READ_ONCE(*(const u32 *)addr));
}

static inline void iowrite16(u16 val, void __iomem *addr)
{
	__io_check(addr, 2);
	WRITE_ONCE(*(u16 *)addr, htole16(val));
}

static inline void iowrite16be(u16 val, void __iomem *addr)
{
	__io_check(addr, 2);
	WRITE_ONCE(*(u16 *)addr, htobe16(val));
}

static inline void iowrite32(u32 val, void __iomem *addr)
{
	__io_check(addr, 4);
	WRITE_ONCE(*(u32 *)addr, htole32(val));
}

static inline void memcpy_fromio(void *dst, const void __iomem *src,
				 size_t len)
{
	__io_check(src, len);
	memcpy(dst, (const void *)src, len);
}

static inline void memcpy_toio(void __iomem *dst, const void *src, size_t len)
{
	__io_check(dst, len);
	memcpy((void *)dst, src, len);
}

#endif /* LINUX_IO_H */
