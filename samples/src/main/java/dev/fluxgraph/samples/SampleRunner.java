package dev.fluxgraph.samples;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * Lists the samples ({@code SampleRunner}, {@code list} or {@code --help}), or runs one:
 * {@code SampleRunner <sample> [args...]}. Exit code 2 for an unknown sample.
 */
public final class SampleRunner {

  private SampleRunner() {
  }

  public static void main(String[] args) {
    System.exit(run(List.of(args), new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)),
        System.out));
  }

  /** Runs the command line; returns the exit code. */
  static int run(List<String> args, BufferedReader in, PrintStream out) {
    if (args.isEmpty() || args.get(0).equals("--help") || args.get(0).equals("list")) {
      out.println("usage: SampleRunner <sample> [args...]");
      out.println();
      for (Sample sample : Samples.all()) {
        out.printf("  %-20s %s%n", sample.name(), sample.description());
      }
      return 0;
    }
    Optional<Sample> sample = Samples.named(args.get(0));
    if (sample.isEmpty()) {
      out.println("unknown sample '" + args.get(0) + "'; run without arguments to list the samples");
      return 2;
    }
    sample.get().run(args.subList(1, args.size()), in, out);
    return 0;
  }

}
