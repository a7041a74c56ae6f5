# Labs (labs/README.md). A test a student writes for a lab, saved as
# tests/labs/NAME_test.c, becomes the hosted program NAME_test: make test runs
# it on the real code and `make lab-N` runs it against the lab's planted bug.
# The tree ships no such file (reference answers live in labs/answers/).
LAB_TESTS := $(patsubst tests/labs/%.c,%,$(sort $(wildcard tests/labs/*_test.c)))
HOSTED_TESTS += $(LAB_TESTS)
$(foreach t,$(LAB_TESTS),$(call hosted_program,$(t),tests/labs/$(t).c tests/unit/ktest.c $(MMU_HOSTED_SRCS),-lcmocka))

# make lab-N [LAB_ANSWER=1]: plant lab N's bug in build/labs/labN and run the
# fast hosted suite there (scripts/lab.sh).
lab-%: deps-test
	@$(MAKE) --no-print-directory $(HOSTED_BINS)
	@scripts/lab.sh $* $(if $(LAB_ANSWER),--answer)
.PHONY: labs-check
labs-check:
	@scripts/lab.sh --check

# make test: every lab still plants its bug (tests/labs/check-labs.sh).
BOOT_TESTS += tests/labs/check-labs.sh
