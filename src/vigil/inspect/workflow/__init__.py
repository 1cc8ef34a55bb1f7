"""The inspection workflow: plan, answer, attach evidence, score, remediate; and its findings."""
