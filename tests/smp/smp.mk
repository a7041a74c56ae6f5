# The remote-flush protocol across CPUs, hosted: model vCPU threads with
# model TLBs that keep translating until kicked (tests/smp/smp_model.h).
HOSTED_TESTS += smp_flush
$(call hosted_program,smp_flush,tests/smp/smp_model.c tests/smp/smp_test.c $(MMU_HOSTED_SRCS),-lcmocka)
