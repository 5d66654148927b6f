package testenv

// ReleasedCommit is the code in production before the decline branch and
// the customer workflow: its worker and starter — built as binaries by
// worker/deploy_test.go, as images by make deploy-test (scripts/deploy-test.sh
// reads this line) — start the onboardings that this commit's worker must
// finish.
const ReleasedCommit = "e4a37f68e60fdad8a1f03fe0ece7597f25cd3458"
