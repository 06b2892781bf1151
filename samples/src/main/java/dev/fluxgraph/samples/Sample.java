package dev.fluxgraph.samples;

import java.io.BufferedReader;
import java.io.PrintStream;
import java.util.List;

/**
 * A runnable counterpart of one example of the reference documents. {@link #run} prints what the reference prints
 * (stream chunks as {@code mode: json}); samples that pause for a human read the answer from {@code args} when
 * given, otherwise from {@code in}.
 */
public interface Sample {

  /** The name on the command line, e.g. {@code human-in-the-loop}. */
  String name();

  /** One line for the sample list. */
  String description();

  /** Runs the sample to completion; blocking is fine here, this is a command-line program. */
  void run(List<String> args, BufferedReader in, PrintStream out);
}
