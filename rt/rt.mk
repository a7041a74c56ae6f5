# rt/: Keel's runtime, the host services every layer above uses: the console
# (COM1), the log, the page pool, panic and stop, CPU id and time
# (include/keel/host.h), and the MMU's environment for keel.efi (mmu_env.c).
# It depends only on lib/, include/ and the instruction wrappers of
# arch/x86/cpu.h.
KEEL_SRCS += rt/serial.c rt/log.c rt/pool.c rt/host.c rt/platform.c rt/mmu_env.c

# The pool is portable: tested hosted.
HOSTED_TESTS += rt_pool_test
$(call hosted_program,rt_pool_test,rt/pool.c rt/pool_test.c tests/unit/ktest.c,-lcmocka)
