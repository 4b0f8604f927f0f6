// The commit is the one build fact Swift cannot read at compile time without a plugin or a
// dependency. scripts/stamp-commit (run by scripts/test and scripts/quickstart) writes
// credits_commit.h beside this file, ignored by git, and touches this file when the commit
// changes so the next build recompiles it. A build that skipped the script still compiles: it
// says "unknown" rather than a commit it cannot know.
#include "credits_build_info.h"

#if __has_include("credits_commit.h")
#include "credits_commit.h"
#endif

#ifndef CREDITS_COMMIT
#define CREDITS_COMMIT "unknown"
#endif

const char *credits_build_commit(void) { return CREDITS_COMMIT; }
