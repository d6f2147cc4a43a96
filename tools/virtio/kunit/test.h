/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Just enough of KUnit to run a kernel KUnit suite in userspace, against
 * the shims of tools/virtio.  The program includes the suite's .c file
 * and runs kunit_shim_suite with kunit_shim_run(), which prints KTAP.
 *
 * Only the expectations and assertions the suites built here use are
 * provided; values are compared as long long (pointers as pointers).
 */
#ifndef _KUNIT_TEST_H
#define _KUNIT_TEST_H

#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <linux/kernel.h>
#include <linux/module.h>

struct kunit {
	const char *name;
	void *priv;
	bool failed;
	jmp_buf abort;
};

struct kunit_case {
	void (*run_case)(struct kunit *test);
	const char *name;
};

struct kunit_suite {
	const char *name;
	int (*init)(struct kunit *test);
	void (*exit)(struct kunit *test);
	struct kunit_case *test_cases;
};

#define KUNIT_CASE(fn)	{ .run_case = fn, .name = #fn }

/* The case running now, for the program's own checks. */
static struct kunit *kunit_shim_current;

#define kunit_test_suite(suite) \
	static struct kunit_suite *kunit_shim_suite = &(suite)

#define kunit_shim_check(test, ok, fatal, fmt, ...)			\
do {									\
	struct kunit *__test = (test);					\
									\
	if (!(ok)) {							\
		fprintf(stderr, "    # %s: %s:%d: " fmt "\n",		\
			__test->name, __FILE__, __LINE__,		\
			##__VA_ARGS__);					\
		__test->failed = true;					\
		if (fatal)						\
			longjmp(__test->abort, 1);			\
	}								\
} while (0)

#define kunit_shim_binary(test, left, op, right, fatal)		\
do {									\
	long long __l = (long long)(left), __r = (long long)(right);	\
	kunit_shim_check(test, __l op __r, fatal,			\
			 "Expected %s %s %s, but %lld vs %lld",		\
			 #left, #op, #right, __l, __r);			\
} while (0)

#define kunit_shim_ptr(test, left, op, right, fatal)			\
do {									\
	const void *__l = (left), *__r = (right);			\
	kunit_shim_check(test, __l op __r, fatal,			\
			 "Expected %s %s %s, but %p vs %p",		\
			 #left, #op, #right, __l, __r);			\
} while (0)

#define KUNIT_EXPECT_EQ(t, l, r)	kunit_shim_binary(t, l, ==, r, 0)
#define KUNIT_EXPECT_NE(t, l, r)	kunit_shim_binary(t, l, !=, r, 0)
#define KUNIT_EXPECT_LT(t, l, r)	kunit_shim_binary(t, l, <, r, 0)
#define KUNIT_EXPECT_LE(t, l, r)	kunit_shim_binary(t, l, <=, r, 0)
#define KUNIT_EXPECT_GT(t, l, r)	kunit_shim_binary(t, l, >, r, 0)
#define KUNIT_EXPECT_GE(t, l, r)	kunit_shim_binary(t, l, >=, r, 0)
#define KUNIT_ASSERT_EQ(t, l, r)	kunit_shim_binary(t, l, ==, r, 1)
#define KUNIT_ASSERT_NE(t, l, r)	kunit_shim_binary(t, l, !=, r, 1)
#define KUNIT_ASSERT_LT(t, l, r)	kunit_shim_binary(t, l, <, r, 1)
#define KUNIT_ASSERT_LE(t, l, r)	kunit_shim_binary(t, l, <=, r, 1)
#define KUNIT_ASSERT_GT(t, l, r)	kunit_shim_binary(t, l, >, r, 1)
#define KUNIT_ASSERT_GE(t, l, r)	kunit_shim_binary(t, l, >=, r, 1)

#define KUNIT_EXPECT_TRUE(t, c)		kunit_shim_binary(t, !!(c), ==, 1, 0)
#define KUNIT_EXPECT_FALSE(t, c)	kunit_shim_binary(t, !!(c), ==, 0, 0)
#define KUNIT_ASSERT_TRUE(t, c)		kunit_shim_binary(t, !!(c), ==, 1, 1)
#define KUNIT_ASSERT_FALSE(t, c)	kunit_shim_binary(t, !!(c), ==, 0, 1)

#define KUNIT_EXPECT_PTR_EQ(t, l, r)	kunit_shim_ptr(t, l, ==, r, 0)
#define KUNIT_EXPECT_NULL(t, p)		kunit_shim_ptr(t, p, ==, NULL, 0)
#define KUNIT_EXPECT_NOT_NULL(t, p)	kunit_shim_ptr(t, p, !=, NULL, 0)
#define KUNIT_ASSERT_NOT_NULL(t, p)	kunit_shim_ptr(t, p, !=, NULL, 1)

#define KUNIT_EXPECT_MEMEQ(t, l, r, size)				\
do {									\
	size_t __size = (size);						\
									\
	kunit_shim_check(t, !memcmp((l), (r), __size), 0,		\
			 "Expected %s == %s, %zu bytes differ",		\
			 #l, #r, __size);				\
} while (0)

#define KUNIT_FAIL(t, fmt, ...)						\
	kunit_shim_check(t, 0, 0, fmt, ##__VA_ARGS__)
#define KUNIT_FAIL_AND_ABORT(t, fmt, ...)				\
	kunit_shim_check(t, 0, 1, fmt, ##__VA_ARGS__)

#define kunit_info(t, fmt, ...)						\
	fprintf(stderr, "    # %s: " fmt "\n", (t)->name, ##__VA_ARGS__)

/*
 * Run the cases of @suite whose name contains @filter (all if NULL), in
 * KTAP; @check, if not NULL, is called after each case and may fail it.
 * Returns the number of failed cases.
 */
static inline int kunit_shim_run(struct kunit_suite *suite,
				 const char *filter,
				 void (*check)(struct kunit *test))
{
	struct kunit_case *c;
	int n = 0, failed = 0;

	for (c = suite->test_cases; c->run_case; c++)
		if (!filter || strstr(c->name, filter))
			n++;
	printf("KTAP version 1\n1..1\n");
	printf("    KTAP version 1\n    # Subtest: %s\n    1..%d\n",
	       suite->name, n);
	n = 0;
	for (c = suite->test_cases; c->run_case; c++) {
		struct kunit test = { .name = c->name };

		if (filter && !strstr(c->name, filter))
			continue;
		kunit_shim_current = &test;
		if (!setjmp(test.abort)) {
			if (suite->init && suite->init(&test))
				test.failed = true;
			else
				c->run_case(&test);
		}
		if (check)
			check(&test);
		if (suite->exit && test.priv)
			suite->exit(&test);
		kunit_shim_current = NULL;
		failed += test.failed;
		printf("    %sok %d %s\n", test.failed ? "not " : "", ++n,
		       c->name);
		fflush(stdout);
	}
	printf("%sok 1 %s\n", failed ? "not " : "", suite->name);
	return failed;
}

#endif /* _KUNIT_TEST_H */
