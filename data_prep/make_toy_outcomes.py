"""Write proxy win/lose labels of the toy iMiGUE videos (see
data_prep/toy/outcomes.py) for tools/emotion_recognition.py.

Example:
    python data_prep/make_toy_outcomes.py \\
        data/toy_imigue/annotations/imigue_upper_body59.pkl \\
        --out data/toy_imigue/annotations/outcomes.csv
"""
import argparse

from toy.outcomes import toy_outcomes, write_outcomes


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('ann_file', help='toy annotation pickle')
    parser.add_argument('--out', required=True, help='CSV to write')
    args = parser.parse_args(argv)
    outcomes = toy_outcomes(args.ann_file)
    write_outcomes(outcomes, args.out)
    print(f'{len(outcomes)} videos, {sum(outcomes.values())} wins -> '
          f'{args.out}')


if __name__ == '__main__':
    main()
