"""What officers read and decide: scorecards, the duplicate queue, household reviews."""
