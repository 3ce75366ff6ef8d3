"""Write proxy win/lose labels of the toy iMiGUE videos (see
data_prep/toy/outcomes.py) for tools/emotion_recognition.py.

Example:
    python data_prep/make_toy_outcomes.py \\
        data/toy_imigue/annotations/imigue_upper_body59.pkl \\
        --out data/toy_imigue/annotations/outcomes.csv
"""
import argparse

from toy.outcomes import toy_outcomes, write_outcomes

from mmmg.utils.cli import (DataFileError, ToolError, add_debug_arg,
                            check_output_file, cli_main)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('ann_file', help='toy annotation pickle')
    parser.add_argument('--out', required=True, help='CSV to write')
    add_debug_arg(parser)
    args = parser.parse_args(argv)
    check_output_file(args.out, '--out')
    try:
        outcomes = toy_outcomes(args.ann_file)
    except DataFileError:
        raise
    except ValueError as e:  # fewer than two classes
        raise ToolError(f'{e}; pass the annotation of a labelled '
                        'toy release') from e
    write_outcomes(outcomes, args.out)
    print(f'{len(outcomes)} videos, {sum(outcomes.values())} wins -> '
          f'{args.out}')


if __name__ == '__main__':
    cli_main(main)
