"""``python -m cartcohort.demo``: regenerate the shipped demo data files."""

from cartcohort.demo.generator import regenerate

if __name__ == "__main__":
    regenerate()
