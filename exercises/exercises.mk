# exercises.mk: the exercises (docs/exercises.md), included by the Makefile.
#
# For exercise ID the student writes the functions EX_FN_ID of the library file EX_LIB_ID,
# starting from the stub exercises/ID.c. Three binaries run the suite exercises/tests/ID.c:
#   $(B)/exercises/ID/student  the student's file, built by `make exercise TOPIC=ID`;
#   $(B)/exercises/ID/stub     the untouched stub (CI: it must fail, cleanly);
#   $(B)/exercises/ID/ref      the library itself (CI: it must pass).
# The student's (or the stub's) functions replace the library's without any duplicate symbol:
# the library file is compiled once more with -DNAME=exref_NAME for each of them, so that
# object (lib.o) defines everything else the library file defines, plus the reference twins
# exref_NAME the suite compares with; the archive's own copy of the file is then never
# pulled in, since every symbol it could provide is already defined. The ref binary links the
# archive as usual and aliases exref_NAME to NAME at link time.

EX_IDS := maxgap combsum combsum2 knapsack heap attn_softmax attn_linear hippo_legs ssm_kernel vq mot flow fusion

EX_LIB_maxgap       := algorithms/maxgap.c
EX_FN_maxgap        := maxgap_buckets
EX_LIB_combsum      := algorithms/combsum.c
EX_FN_combsum       := combsum
EX_LIB_combsum2     := algorithms/combsum.c
EX_FN_combsum2      := combsum2
EX_LIB_knapsack     := algorithms/knapsack.c
EX_FN_knapsack      := knap_2d knap_1d
EX_LIB_heap         := algorithms/heap.c
EX_FN_heap          := heap_push heap_pop heap_heapify
EX_LIB_attn_softmax := models/attention.c
EX_FN_attn_softmax  := attn_row_softmax attn_softmax
EX_LIB_attn_linear  := models/attn_linear.c
EX_FN_attn_linear   := attn_linear
EX_LIB_hippo_legs   := models/hippo.c
EX_FN_hippo_legs    := hippo_legs_matrices hippo_legs_step_dense
EX_LIB_ssm_kernel   := models/ssm.c
EX_FN_ssm_kernel    := ssm_kernel
EX_LIB_vq           := models/vq.c
EX_FN_vq            := vq_assign vq_lloyd_step
EX_LIB_mot          := models/mot.c
EX_FN_mot           := mot_mask mot_forward
EX_LIB_flow         := models/flow.c
EX_FN_flow          := flow_velocity flow_euler_step
EX_LIB_fusion       := models/qknorm.c
EX_FN_fusion        := qknorm_heads_norm qknorm_mha

# Where the student's files live (copied from the stubs on first use); ignored by git.
EX_WORK ?= $(or $(TUTOR_EXERCISE_DIR),exercises/work)

EX_SUPPORT := $(call obj,exercises/tests/ex.c) $(call obj,$(TEST_SUPPORT))
EX_CHECK_BINS := $(foreach id,$(EX_IDS),$(B)/exercises/$(id)/stub $(B)/exercises/$(id)/ref)
# Student files and stubs include "algorithms/heap.h" and so on, from wherever they live.
EX_CFLAGS = $(CPPFLAGS) -I$(CURDIR) $(filter-out -MMD -MP,$(CFLAGS))

define EX_RULES
$(B)/exercises/$(1)/lib.o: $(EX_LIB_$(1))
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CPPFLAGS) $$(CFLAGS) $(foreach f,$(EX_FN_$(1)),-D$(f)=exref_$(f)) -c $$< -o $$@
$(B)/exercises/$(1)/stub.o: exercises/$(1).c
	@mkdir -p $$(dir $$@)
	$$(CC) $$(EX_CFLAGS) -Werror -c $$< -o $$@
$(B)/exercises/$(1)/stub: $(call obj,exercises/tests/$(1).c) $(B)/exercises/$(1)/stub.o \
                          $(B)/exercises/$(1)/lib.o $(EX_SUPPORT) $(LIBS)
	$$(CC) $$(LDFLAGS) $$^ $$(LDLIBS) -o $$@
$(B)/exercises/$(1)/ref: $(call obj,exercises/tests/$(1).c) $(EX_SUPPORT) $(LIBS)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) $(foreach f,$(EX_FN_$(1)),-Wl,--defsym=exref_$(f)=$(f)) $$^ $$(LDLIBS) \
	    -o $$@
endef
$(foreach id,$(EX_IDS),$(eval $(call EX_RULES,$(id))))

# `make test` runs tests/test_exercises, which runs the stub and ref binaries: build them first.
$(B)/tests/test_exercises: | $(EX_CHECK_BINS)

.PHONY: exercise exercise-check
exercise-check: $(EX_CHECK_BINS)

# `make exercise TOPIC=ID [EXERCISE_FILE=path]`: builds the suite against the student's file
# (copying the stub there first when it does not exist yet) and runs it.
ifneq ($(filter exercise,$(MAKECMDGOALS)),)
ifeq ($(filter $(TOPIC),$(EX_IDS)),)
$(error make exercise: TOPIC must be one of: $(EX_IDS))
endif
EX_FILE := $(or $(EXERCISE_FILE),$(EX_WORK)/$(TOPIC).c)
EX_OUT := $(B)/exercises/$(TOPIC)
exercise: $(call obj,exercises/tests/$(TOPIC).c) $(EX_OUT)/lib.o $(EX_SUPPORT) $(LIBS)
	@if [ ! -e "$(EX_FILE)" ]; then \
	    mkdir -p "$(dir $(EX_FILE))" && cp exercises/$(TOPIC).c "$(EX_FILE)" && \
	    echo "exercise $(TOPIC): your file is $(EX_FILE) (a copy of the stub): edit it"; fi
	@$(CC) $(EX_CFLAGS) -c "$(EX_FILE)" -o $(EX_OUT)/student.o || \
	    { echo "exercise $(TOPIC): $(EX_FILE) does not compile (see above)"; exit 1; }
	@for f in $(EX_FN_$(TOPIC)); do \
	    nm $(EX_OUT)/student.o | grep -q " T $$f$$" || { echo "exercise $(TOPIC): \
	    $(EX_FILE) must define $$f, with the signature the stub gives it"; exit 1; }; done
	@$(CC) $(LDFLAGS) $(call obj,exercises/tests/$(TOPIC).c) $(EX_OUT)/student.o \
	    $(EX_OUT)/lib.o $(EX_SUPPORT) $(LIBS) $(LDLIBS) -o $(EX_OUT)/student || \
	    { echo "exercise $(TOPIC): linking failed (see above)"; exit 1; }
	@$(EX_OUT)/student
endif
