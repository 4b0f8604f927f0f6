#ifndef CREDITS_BUILD_INFO_H
#define CREDITS_BUILD_INFO_H

/// The git commit this binary was built from: the full hash, with "-dirty" when the work tree had
/// uncommitted changes, or "unknown" when the build did not go through scripts/stamp-commit.
const char *credits_build_commit(void);

#endif
