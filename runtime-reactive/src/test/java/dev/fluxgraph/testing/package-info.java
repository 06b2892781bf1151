/** Test helpers shared by the modules' tests (shipped in the test-jar). */
package dev.fluxgraph.testing;
