#!/usr/bin/env bash
# Host CPUs under QEMU with multi-threaded TCG: with 2 and 4 CPUs every CPU
# the firmware reports is started, enables SVM, answers on its mailbox, and
# the self-test passes with as many vCPUs, its SMP part included (every vCPU
# faults its own and a shared range at once, dirty logging and harvests
# while the others write, zaps while they read; remote TLB flushes kick the
# vCPUs in guest mode); with 2 CPUs, kick IPIs sent by CPU 1 to
# the CPU in guest mode force VM exits and are acknowledged (debug-kick); a
# panic with 2 CPUs stops both, each printing where it was; with 4 CPUs of
# which one never starts and one fails to enable SVM, both are reported and
# left out. Five boots with
# 64 MiB of guest RAM, each bounded (run-qemu's timeout, and a watchdog for
# a run that does not end after Keel's final line).
. "$(dirname "$0")/qemu-lib.sh"

[ -f "$BUILD/keel.efi" ] || { echo "not ok 1 - $BUILD/keel.efi missing (make keel)"; exit 1; }

# QEMU_SMP_COUNTS narrows the CPU counts (e.g. "2"). A boot that prints
# its summary and does not end is cut short and named (qemu-lib.sh's boot).
for n in ${QEMU_SMP_COUNTS:-2 4}; do
	cfg=$logdir/smp$n.cfg
	printf 'guest-mem = 64M\n' >"$cfg"
	boot "smp$n" --smp="$n" --cfg="$cfg"
	check "smp=$n: the guest passes" test "$boot_status" -eq 0
	check "smp=$n: every CPU started" log_has "^keel: cpus started=$n$"
	for ((i = 1; i < n; i++)); do
		check "smp=$n: cpu $i enabled SVM" log_has "^svm: cpu $i enabled "
	done
	check "smp=$n: the guest started $((n - 1)) more vCPUs" \
		log_has "^keel: vm selftest: vcpu $((n - 1)) started on cpu $((n - 1)) "
	check "smp=$n: the SMP self-test passed" log_has "^guest: PASS smp$"
	check "smp=$n: remote flushes kicked vCPUs in guest mode" \
		log_has "^keel: smp vcpus=$n remote_flushes=[1-9][0-9]* kicks=[1-9][0-9]* "
	check "smp=$n: the summary says cpus=$n vcpus=$n" log_has "^keel: done .* cpus=$n vcpus=$n$"
	check "smp=$n: the summary gives the mean remote-flush wait" \
		log_has "^keel: smp vcpus=$n .* worst_wait_us=[0-9]+ mean_wait_us=[0-9]+$"
	check "smp=$n: the summary has a line per vCPU, each with its exits" \
		test "$(grep -acE '^keel: vcpu [0-9]+ exits=[1-9][0-9]* npf=[0-9]+ hlt=' "$boot_log")" -eq "$n"
	check "smp=$n: the guest reports its fault rate with $n vCPUs" \
		log_has "^guest: fault-rate: vcpus=$n pages=$((n * 2048)) tsc_cycles=[1-9][0-9]*$"
done
# A CPU that does not start (debug-dead-cpu: the second CPU the firmware
# reports gets no SIPI) and one whose SVM enable fails (debug-no-enable-cpu:
# the third) are reported and left out; the other two run the VM.
cfg=$logdir/smp-dead.cfg
printf 'guest-mem = 64M\ndebug-dead-cpu = 1\ndebug-no-enable-cpu = 2\n' >"$cfg"
boot smp-dead --smp=4 --cfg="$cfg"
check "dead cpu: the guest passes without it" test "$boot_status" -eq 0
check "dead cpu: a CPU that never answers is reported and left out" \
	log_has "^keel: cpu with apic id [0-9]+ did not start \(-110\); left out$"
check "dead cpu: a CPU whose SVM enable fails says so" \
	log_has "^keel: cpu [0-9]+ \(apic [0-9]+\): svm enable failed \(-[0-9]+\)$"
check "dead cpu: ... and is left out" \
	log_has "^keel: cpu with apic id [0-9]+ did not start \(-5\); left out$"
check "dead cpu: two CPUs started" log_has "^keel: cpus started=2$"
check "dead cpu: the SMP self-test passed with 2 vCPUs" log_has "^guest: PASS smp$"
check "dead cpu: the summary says cpus=2 vcpus=2" log_has "^keel: done .* cpus=2 vcpus=2$"

cfg=$logdir/smp-kick.cfg
printf 'guest-mem = 64M\ndebug-kick = yes\n' >"$cfg"
boot smp-kick --smp=2 --cfg="$cfg"
check "debug-kick: the guest passes while CPU 1 kicks CPU 0" test "$boot_status" -eq 0
check "smp=2: kicks to the CPU in guest mode were taken, nothing else arrived" \
	log_has "^keel: debug-kick: sent [1-9][0-9]* kicks, cpu 0 took [1-9][0-9]*, other interrupts 0$"

cfg=$logdir/smp-panic.cfg
printf 'guest-mem = 64M\ndebug-panic = yes\n' >"$cfg"
boot smp-panic --smp=2 --cfg="$cfg"
check "smp panic: run-qemu exits 3 (panic status)" test "$boot_status" -eq 3
check "smp panic: the report names the CPU" log_has "^keel: PANIC: exception #UD .* cpu=0$"
check "smp panic: the other CPU was stopped and printed its state" \
	log_has "^keel: cpu 1 stopped: rip=[0-9a-f]{16} "
check "smp panic: ends with a stop line" log_has "^keel: stopped \(panic\)"
check "smp panic: no line is interleaved" \
	bash -c "! grep -aE '.keel: (cpu|PANIC|stopped)' '$boot_log' | grep -qvE '^keel: '"

tap_end
